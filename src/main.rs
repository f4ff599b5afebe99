//! `pyc`: check cache trees against their sources, show headers, dump objects.
//!
//! A thin shell over the library: argument parsing, walking, threads, printing and exit codes. What a
//! file means (statuses, messages, JSON lines, readable dumps) is decided in `pycmarshal::check`,
//! `pycmarshal::dump` and `pycmarshal::json`.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pycmarshal::check::{self, Checker, Report, Summary};
use pycmarshal::{Implementation, Options, Python, dump, header, infer, json};
use rayon::prelude::*;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const EXIT_STATUS: &str = "\
Exit status:
  0  every file is ok
  1  a problem was found in at least one file (or a file could not be read)
  2  usage error (bad arguments)";

const CHECK_ABOUT: &str = "\
Checks every .pyc and .pyo file under the given paths as importlib would, without running Python.

Each file gets one status, decided in this order:
  header       incomplete-write (zero placeholder magic), unknown-magic, truncated, corrupt (bad flags)
  body         truncated, corrupt (a strict parse: one code object, no trailing bytes)
  name         tag-mismatch (the cache tag in NAME.TAG.pyc is not the magic's interpreter)
  source       orphan (a __pycache__ file without its source), stale (the source's mtime and size, or
               the SipHash of its bytes for checked-hash pycs, differ from the header's)
Files that pass all of these are ok. A file that cannot be read is unreadable. Unchecked-hash pycs are
ok whatever their source says, and a legacy NAME.pyc without a NAME.py beside it is ok (importlib loads
it as sourceless).

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
    /// tag-mismatch, incomplete-write or unreadable.
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
    /// Check with this many threads [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,
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
    #[arg(long, value_name = "X.Y", value_parser = parse_python)]
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

fn parse_python(text: &str) -> Result<Python, String> {
    let lower = text.to_ascii_lowercase();
    let (implementation, version) = match lower.strip_prefix("pypy") {
        Some(rest) => (Implementation::PyPy, rest.trim_start()),
        None => (Implementation::CPython, lower.as_str()),
    };
    let parsed = version
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)));
    match parsed {
        Some((major, minor)) => Ok(Python {
            implementation,
            major,
            minor,
        }),
        None => Err(format!(
            "expected a version like 3.11 or pypy3.9, got {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = match cli.command {
        Command::Check(args) => run_check(&args, &mut out),
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

fn status(problems: bool) -> ExitCode {
    ExitCode::from(u8::from(problems))
}

/// What the walk found, in order: files to check, or paths that failed.
enum Found {
    File(PathBuf),
    Failed(Report),
}

fn is_cache_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pyc" | "pyo")
    )
}

/// Files named on the command line are checked whatever their name; directories are walked (sorted,
/// so the output is the same run after run) for .pyc and .pyo files. Each is handed to `found` as the
/// walk meets it.
fn walk(paths: &[PathBuf], follow: bool, mut found: impl FnMut(Found)) {
    for path in paths {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                let walker = walkdir::WalkDir::new(path)
                    .follow_links(follow)
                    .sort_by_file_name();
                for entry in walker {
                    match entry {
                        Ok(entry) if entry.file_type().is_file() && is_cache_file(entry.path()) => {
                            found(Found::File(entry.into_path()));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            let path = error.path().unwrap_or(path).to_path_buf();
                            let error = match error.into_io_error() {
                                Some(error) => error,
                                None => io::Error::other("file system loop"),
                            };
                            found(Found::Failed(Report::unreadable(&path, error)));
                        }
                    }
                }
            }
            Ok(_) => found(Found::File(path.clone())),
            Err(error) => found(Found::Failed(Report::unreadable(path, error))),
        }
    }
}

/// A bar on stderr that appears only when stderr is a terminal and the run has lasted a second.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: AtomicBool,
}

impl Progress {
    /// A bar of no files yet: the walk adds them as it finds them.
    fn new() -> Progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files, {eta} left") {
            bar.set_style(style);
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled: io::stderr().is_terminal(),
            shown: AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.start.elapsed() > Duration::from_secs(1)
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

fn run_check(args: &CheckArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let start = Instant::now();
    let checker = Checker::new().sources(!args.no_source);
    let progress = Progress::new();
    // The walk runs on its own thread and the checks start with the first file it finds; each report
    // keeps the file's place in the walk, so the output is in walk order all the same.
    let check_all = || -> Vec<(usize, Report)> {
        std::thread::scope(|scope| {
            let (sender, found) = std::sync::mpsc::channel();
            scope.spawn(|| {
                walk(&args.paths, args.follow, |item| {
                    progress.bar.inc_length(1);
                    // The receiver lives until the walk ends.
                    let _ = sender.send(item);
                });
                drop(sender);
            });
            found
                .into_iter()
                .enumerate()
                .par_bridge()
                .map(|(place, found)| {
                    let report = match found {
                        Found::File(path) => checker.check_path(&path),
                        Found::Failed(report) => report,
                    };
                    progress.tick();
                    (place, report)
                })
                .collect()
        })
    };
    let mut reports = match args.threads {
        Some(threads) => match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(check_all),
            Err(error) => return Err(io::Error::other(error)),
        },
        None => check_all(),
    };
    progress.bar.finish_and_clear();
    reports.sort_unstable_by_key(|&(place, _)| place);

    let mut summary = Summary::default();
    let mut line = String::new();
    for (_, report) in &reports {
        summary.add(report);
        line.clear();
        if args.json {
            report.write_json(&mut line);
        } else if let Some(message) = report.message() {
            line.push_str(&report.path.display().to_string());
            line.push_str(": ");
            line.push_str(&message);
        } else {
            continue;
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    let seconds = start.elapsed().as_secs_f64();
    line.clear();
    if args.json {
        summary.write_json(&mut line, seconds);
    } else {
        line.push_str(&summary.line(seconds));
    }
    line.push('\n');
    out.write_all(line.as_bytes())?;
    if summary.files == 0 {
        eprintln!("pyc: no .pyc or .pyo files found");
    }
    Ok(status(summary.problems() > 0))
}

fn run_info(args: &InfoArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let mut problems = false;
    for (i, path) in args.files.iter().enumerate() {
        let mut text = String::new();
        let parsed = std::fs::read(path).map(|data| pycmarshal::header::parse(&data, None));
        problems |= !matches!(parsed, Ok(Ok(_)));
        if args.json {
            text.push_str("{\"path\":");
            json::write_str(&mut text, &path.to_string_lossy());
            text.push_str(",\"header\":");
            match &parsed {
                Ok(Ok(header)) => json::write_header(&mut text, header),
                _ => text.push_str("null"),
            }
            text.push_str(",\"error\":");
            match &parsed {
                Ok(Ok(_)) => text.push_str("null"),
                Ok(Err(error)) => json::write_error(&mut text, error),
                Err(error) => check::write_io_error(&mut text, path, error),
            }
            text.push_str("}\n");
        } else {
            match &parsed {
                Ok(Ok(header)) => {
                    if i > 0 {
                        text.push('\n');
                    }
                    text.push_str(&format!("file:         {}\n", path.display()));
                    dump::write_header(&mut text, header);
                }
                Ok(Err(error)) => eprintln!("{}: {error}", path.display()),
                Err(error) => eprintln!("{}: unreadable: {error}", path.display()),
            }
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(status(problems))
}

fn run_dump(args: &DumpArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    let data = match std::fs::read(&args.file) {
        Ok(data) => data,
        Err(error) => {
            if args.json {
                let mut text = String::from("{\"header\":null,\"root\":null,\"error\":");
                check::write_io_error(&mut text, &args.file, &error);
                text.push_str("}\n");
                out.write_all(text.as_bytes())?;
            }
            eprintln!("{}: unreadable: {error}", args.file.display());
            return Ok(status(true));
        }
    };
    let mut options = Options::new();
    if let Some(python) = args.python {
        options = options.python(python);
    }
    // Inference: where the data starts, and the most plausible way to read it.
    let inferred = match (args.infer, args.no_header && args.python.is_none()) {
        (true, _) => infer::infer_pyc(&data),
        (false, true) => Some((0, infer::infer_version(&data))),
        (false, false) => None,
    };
    let mut body = &data[..];
    if let Some((start, candidates)) = &inferred {
        body = data.get(*start..).unwrap_or_default();
        if let Some(best) = candidates.first() {
            options = best.options();
        }
        eprintln!(
            "{}: inferred: {}{}",
            args.file.display(),
            infer::summary(candidates),
            if args.infer {
                format!("; marshal data from byte {start}")
            } else {
                String::new()
            }
        );
    } else if args.infer {
        eprintln!(
            "{}: inferred: no header size and reading decode the data",
            args.file.display()
        );
    }
    // Dropbox's code objects are encrypted: read the decrypted stream instead (its offsets are the
    // decrypted data's), or show why it cannot be decrypted.
    let decrypted;
    let mut decrypt_error = None;
    let mut data = &data[..];
    let dropbox = !args.no_header
        && inferred.is_none()
        && header::parse(data, None)
            .is_ok_and(|header| header.python.implementation == Implementation::Dropbox);
    if dropbox {
        match pycmarshal::dropbox::decrypt(data) {
            Ok(plain) => {
                decrypted = plain;
                data = &decrypted;
                options = pycmarshal::dropbox::OPTIONS;
                eprintln!(
                    "{}: Dropbox's encrypted code objects decrypted; offsets are in the decrypted data",
                    args.file.display()
                );
            }
            Err(error) => decrypt_error = Some(error),
        }
    }
    let mut partial = if args.no_header || inferred.is_some() {
        options.parse_marshal_tolerant(body)
    } else {
        options.parse_pyc_tolerant(data)
    };
    if decrypt_error.is_some() {
        partial.error = decrypt_error;
    }
    let error = partial.error.as_ref();
    let root = partial
        .objects
        .root()
        .filter(|_| args.tolerant || error.is_none());
    let mut text = String::new();
    if args.json {
        text = json::document(partial.header.as_ref(), root, error);
        text.push('\n');
    } else if args.tolerant || error.is_none() {
        if let Some(header) = &partial.header {
            dump::write_header(&mut text, header);
            text.push('\n');
        }
        if let Some(root) = root {
            let layout = dump::Layout {
                offsets: args.offsets,
            };
            dump::write_object(&mut text, root, layout);
        }
    }
    out.write_all(text.as_bytes())?;
    if let Some(error) = error {
        out.flush()?;
        eprintln!("{}: {error}", args.file.display());
    }
    Ok(status(error.is_some()))
}

fn run_normalize(args: &NormalizeArgs, out: &mut impl Write) -> io::Result<ExitCode> {
    if args.output.is_some() && args.files.len() > 1 {
        eprintln!("pyc normalize: -o takes one FILE, not {}", args.files.len());
        return Ok(ExitCode::from(2));
    }
    let mut problems = false;
    for path in &args.files {
        let normalized = std::fs::read(path).map(|data| {
            let result = pycmarshal::parse_pyc(&data)
                .and_then(|pyc| pycmarshal::normalize::normalize_pyc(&pyc));
            (result, data)
        });
        let (normalized, data) = match normalized {
            Ok((Ok(normalized), data)) => (normalized, data),
            Ok((Err(error), _)) => {
                eprintln!("{}: {error}", path.display());
                problems = true;
                continue;
            }
            Err(error) => {
                eprintln!("{}: unreadable: {error}", path.display());
                problems = true;
                continue;
            }
        };
        let changed = normalized != data;
        if args.check {
            if changed {
                writeln!(out, "{}: not normalized", path.display())?;
                problems = true;
            }
            continue;
        }
        let target = args.output.as_deref().unwrap_or(path);
        if !changed && target == path.as_path() {
            continue;
        }
        match write_atomic(target, &normalized) {
            Ok(()) => writeln!(
                out,
                "{}: normalized ({} -> {} bytes)",
                target.display(),
                data.len(),
                normalized.len()
            )?,
            Err(error) => {
                eprintln!("{}: cannot write: {error}", target.display());
                problems = true;
            }
        }
    }
    Ok(status(problems))
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`, so that a reader (or
/// a crash) never sees half a file: how importlib writes caches. An existing file's permissions are kept.
fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&temporary, data).and_then(|()| {
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
