//! `pyc`: check cache trees against their sources, show headers, dump objects, normalize.
//!
//! A thin shell over the library: argument parsing, walking, threads, printing and exit codes. What a
//! file is and what is said of it (statuses, messages, JSON lines, readable dumps, how a file is read)
//! is decided in `pycmarshal::tools`; this holds no format knowledge.

mod check;
mod output;

use crate::output::{Out, exit};
use clap::{Args, Parser, Subcommand};
use core::fmt::Write as _;
use pycmarshal::Python;
use pycmarshal::read::header;
use pycmarshal::tools::check::parse_contents;
use pycmarshal::tools::file::{self, FileError, HEAD};
use pycmarshal::tools::reading::{How, Reading};
use pycmarshal::tools::{check::write_file_error, dump, infer, json};
use pycmarshal::write::normalize;
use std::io::{self, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_STATUS: &str = "\
Exit status:
  0  every file is ok
  1  a problem was found in at least one file, a file could not be read, or there was nothing to check
  2  usage error (bad arguments)";

const CHECK_ABOUT: &str = "\
Checks every .pyc and .pyo file under the given paths as importlib would, without running Python.

Each file gets one status, decided in this order:
  header       incomplete-write (zero placeholder magic), unknown-magic, truncated, corrupt (bad flags)
  body         truncated, corrupt (a strict parse: one code object, no trailing bytes)
  name         tag-mismatch (the cache tag in NAME.TAG.pyc is not the magic's interpreter)
  source       orphan (a __pycache__ file without its source), stale (the source's mtime and size, or
               the SipHash of its bytes for checked-hash pycs, differ from the header's)
Files that pass all of these are ok. A file that cannot be read, or is not a regular file (a FIFO, a
device, a link the walk does not follow), is unreadable; one that a writer changed every time it was
read is changing. Unchecked-hash pycs are ok whatever their source says, and a legacy NAME.pyc without a
NAME.py beside it is ok (importlib loads it as sourceless).

Prints one line per problem and a summary; with --json, one JSON object per file and a summary object.";

/// Check, inspect and dump Python .pyc files of every version, offline.
#[derive(Parser)]
#[command(name = "pyc", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check .pyc files and cache trees: ok, stale, orphan, truncated, corrupt, unknown-magic,
    /// tag-mismatch, incomplete-write, changing or unreadable.
    #[command(long_about = CHECK_ABOUT, after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Show the header of .pyc files in words: magic, interpreter, flags, invalidation, mtime or hash.
    #[command(after_help = EXIT_STATUS)]
    Info(InfoArgs),
    /// Show the decoded objects of a .pyc file (or of raw marshal data), Python-repr style.
    #[command(after_help = EXIT_STATUS)]
    Dump(DumpArgs),
    /// Rewrite .pyc files so their bytes depend only on their value (reproducible builds).
    #[command(long_about = NORMALIZE_ABOUT, after_help = NORMALIZE_EXIT_STATUS)]
    Normalize(NormalizeArgs),
}

const NORMALIZE_ABOUT: &str = "\
Rewrites each .pyc file so that its bytes depend only on its value, not on the reference counts of the
interpreter that wrote it (which decide where CPython puts back-references, so one module compiles to
different bytes from run to run): equal immutable values are written once and referred back to,
FLAG_REF marks exactly the objects a back-reference uses, set items are in a canonical order. The header
is kept. Python loads the result to an equal value. Python 3.4 and later only (older marshal data has no
back-references).

Files are rewritten in place, atomically (written beside the original, then renamed over it, as importlib
writes caches); -o writes one file elsewhere; --check writes nothing and lists the files that are not
normalized.";

const NORMALIZE_EXIT_STATUS: &str = "\
Exit status:
  0  every file is normalized (or was rewritten)
  1  a file is not normalized (--check), or could not be read, parsed or written
  2  usage error (bad arguments)";

#[derive(Args)]
struct CheckArgs {
    /// Files and directories; directories are walked for *.pyc and *.pyo files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print JSON Lines: one object per file (path, status, python, implementation, magic,
    /// invalidation, source, message, error, bytes), then one summary object without a "path" key.
    #[arg(long)]
    json: bool,
    /// Check headers, bodies and names only; never look at sources (so nothing is stale or orphan).
    #[arg(long)]
    no_source: bool,
    /// Follow symbolic links while walking directories.
    #[arg(short = 'L', long)]
    follow: bool,
    /// Check with this many threads [default: one per core; at most four per core].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Args)]
struct InfoArgs {
    /// The .pyc files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print one JSON object per file: {"path", "header", "error"}.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DumpArgs {
    /// The .pyc file (or, with --no-header, raw marshal data).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print the JSON form {"header", "root", "error"} instead; also when decoding fails (with "error"
    /// set, and "root" null unless --tolerant).
    #[arg(long)]
    json: bool,
    /// Show what was decoded before a fault, then the fault.
    #[arg(long)]
    tolerant: bool,
    /// Read the data as this version wrote it, whatever the magic says: 3.11, 2.7, pypy3.9.
    #[arg(long, value_name = "X.Y", value_parser = |text: &str| text.parse::<Python>().map_err(|e| e.to_string()))]
    python: Option<Python>,
    /// The file is raw marshal data (marshal.dumps output, or a .pyc body whose header a packer
    /// stripped). Without --python, the version is inferred from the data's structure.
    #[arg(long)]
    no_header: bool,
    /// Ignore the header: infer where the marshal data starts and which version wrote it from its
    /// structure (for unknown or wrong magic numbers).
    #[arg(long, conflicts_with_all = ["no_header", "python"])]
    infer: bool,
    /// Start each line with the byte offset of the object it shows.
    #[arg(long)]
    offsets: bool,
}

#[derive(Args)]
struct NormalizeArgs {
    /// The .pyc files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write the result here instead of over the file (one FILE only).
    #[arg(short = 'o', long, value_name = "OUT", conflicts_with = "check")]
    output: Option<PathBuf>,
    /// Write nothing; list the files that are not normalized (exit status 1 if any).
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = Out::stdout();
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &mut out),
        Command::Info(args) => run_info(&args, &mut out),
        Command::Dump(args) => run_dump(&args, &mut out),
        Command::Normalize(args) => run_normalize(&args, &mut out),
    };
    match result.and_then(|code| out.flush().map(|()| code)) {
        Ok(code) => code,
        // A closed pipe (`pyc check ... | head`) is the reader's choice, not an error.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(1),
        Err(error) => {
            eprintln!("pyc: {error}");
            ExitCode::from(2)
        }
    }
}

/// The header of each file, read from its first bytes only.
fn run_info(args: &InfoArgs, out: &mut Out) -> io::Result<ExitCode> {
    let mut problems = false;
    let mut shown = 0;
    for path in &args.files {
        // Only the header matters: its first bytes are all that is read.
        let head = file::open_regular(path, true).and_then(|(file, _)| {
            let mut data = Vec::with_capacity(HEAD);
            file.take(HEAD as u64).read_to_end(&mut data)?;
            Ok(data)
        });
        let parsed = head.as_ref().map(|data| header::parse(data, None));
        problems |= !matches!(parsed, Ok(Ok(_)));
        if args.json {
            out.text(|text| {
                text.write_str("{\"path\":")?;
                json::write_str(text, &path.to_string_lossy())?;
                text.write_str(",\"header\":")?;
                match &parsed {
                    Ok(Ok(header)) => json::write_header(text, header)?,
                    _ => text.write_str("null")?,
                }
                text.write_str(",\"error\":")?;
                match &parsed {
                    Ok(Ok(_)) => text.write_str("null")?,
                    Ok(Err(error)) => json::write_error(text, error)?,
                    Err(error) => write_file_error(text, path, error)?,
                }
                text.write_str("}\n")
            })?;
            continue;
        }
        match &parsed {
            Ok(Ok(header)) => {
                if shown > 0 {
                    out.text(|text| text.write_char('\n'))?;
                }
                shown += 1;
                out.text(|text| {
                    writeln!(text, "file:         {}", path.display())?;
                    dump::write_header(text, header)
                })?;
            }
            Ok(Err(error)) => eprintln!("{}: {error}", path.display()),
            Err(error) => eprintln!("{}: unreadable: {error}", path.display()),
        }
    }
    Ok(exit(problems))
}

fn run_dump(args: &DumpArgs, out: &mut Out) -> io::Result<ExitCode> {
    let name = args.file.display();
    let contents = match file::read_pyc(&args.file, true) {
        Ok(contents) if contents.is_whole() => contents,
        Ok(contents) => {
            let error = parse_contents(&contents).err();
            return dump_failed(args, out, error.map(Failure::Decode));
        }
        Err(error) => return dump_failed(args, out, Some(Failure::File(error))),
    };
    let how = How {
        no_header: args.no_header,
        python: args.python,
        infer: args.infer,
    };
    let reading = Reading::new(&contents.data, how);
    if let Some((start, candidates)) = &reading.inferred {
        if candidates.is_empty() {
            eprintln!(
                "{name}: cannot infer a reading: {}",
                infer::summary(candidates)
            );
        } else if args.infer {
            let summary = infer::summary(candidates);
            eprintln!("{name}: inferred: {summary}; marshal data from byte {start}");
        } else {
            eprintln!("{name}: inferred: {}", infer::summary(candidates));
        }
    }
    if reading.decrypted {
        eprintln!(
            "{name}: Dropbox's encrypted code objects decrypted; offsets are in the decrypted data"
        );
    }
    let partial = reading.parse();
    let error = partial.error.as_ref();
    let root = partial
        .objects
        .root()
        .filter(|_| args.tolerant || error.is_none());
    if args.json {
        out.text(|text| {
            json::write_document(text, partial.header.as_ref(), root, error)?;
            text.write_char('\n')
        })?;
    } else if args.tolerant || error.is_none() {
        if let Some(header) = &partial.header {
            out.text(|text| {
                dump::write_header(text, header)?;
                text.write_char('\n')
            })?;
        }
        if let Some(root) = root {
            let layout = dump::Layout {
                offsets: args.offsets,
            };
            out.text(|text| dump::write_object(text, root, layout))?;
        }
    }
    if let Some(error) = error {
        out.flush()?;
        eprintln!("{name}: {error}");
    }
    Ok(exit(error.is_some()))
}

/// Why a file could not be shown at all.
enum Failure {
    File(FileError),
    Decode(pycmarshal::Error),
}

/// What `pyc dump` says of a file it could not read whole: the JSON form with only the error, or the
/// error on stderr.
fn dump_failed(args: &DumpArgs, out: &mut Out, failure: Option<Failure>) -> io::Result<ExitCode> {
    let Some(failure) = failure else {
        return Ok(exit(true));
    };
    if args.json {
        out.text(|text| {
            text.write_str("{\"header\":null,\"root\":null,\"error\":")?;
            match &failure {
                Failure::File(error) => write_file_error(text, &args.file, error)?,
                Failure::Decode(error) => json::write_error(text, error)?,
            }
            text.write_str("}\n")
        })?;
    }
    match &failure {
        Failure::File(error) => eprintln!("{}: unreadable: {error}", args.file.display()),
        Failure::Decode(error) => eprintln!("{}: {error}", args.file.display()),
    }
    Ok(exit(true))
}

fn run_normalize(args: &NormalizeArgs, out: &mut Out) -> io::Result<ExitCode> {
    if args.output.is_some() && args.files.len() > 1 {
        eprintln!("pyc normalize: -o takes one FILE, not {}", args.files.len());
        return Ok(ExitCode::from(2));
    }
    let mut problems = false;
    for path in &args.files {
        let name = path.display();
        let contents = match file::read_pyc(path, true) {
            Ok(contents) if contents.is_whole() => contents,
            Ok(contents) => {
                if let Err(error) = parse_contents(&contents) {
                    eprintln!("{name}: cannot normalize: {error}");
                }
                problems = true;
                continue;
            }
            Err(error) => {
                eprintln!("{name}: unreadable: {error}");
                problems = true;
                continue;
            }
        };
        let data = contents.data;
        let mut normalized = Vec::new();
        let result = pycmarshal::parse_pyc(&data)
            .and_then(|pyc| normalize::write_pyc(&mut normalized, &pyc));
        if let Err(error) = result {
            eprintln!("{name}: cannot normalize: {error}");
            problems = true;
            continue;
        }
        let changed = normalized != data;
        if args.check {
            if changed {
                out.text(|text| writeln!(text, "{name}: not normalized"))?;
                problems = true;
            }
            continue;
        }
        let target = args.output.as_deref().unwrap_or(path);
        if !changed && target == path.as_path() {
            continue;
        }
        match file::write_atomic(target, &normalized) {
            Ok(()) => out.text(|text| {
                writeln!(
                    text,
                    "{}: normalized ({} -> {} bytes)",
                    target.display(),
                    data.len(),
                    normalized.len()
                )
            })?,
            Err(error) => {
                eprintln!("{}: cannot write: {error}", target.display());
                problems = true;
            }
        }
    }
    Ok(exit(problems))
}
