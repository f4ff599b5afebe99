//! The `pyc` command (feature `cli`): check cache trees against their sources, remove the bad caches,
//! show headers, dump objects, normalize. [`run`] is the whole command, so that the binary and the Python package's
//! console script are the same program.
//!
//! A thin shell over the library, the top layer: argument parsing, walking, threads, printing and exit
//! codes. What a file is and what is said of it (statuses, messages, JSON lines, readable dumps, how a
//! file is read) is decided in `tools`; this holds no format knowledge. May use: `tools`, `write`, and
//! the crate root's types.

// The library is `no_std`; the command is not.
use std::eprintln;
use std::prelude::rust_2024::*;

mod args;
mod check;
mod clean;
mod output;
mod pipeline;

use self::args::{Cli, Command, DisArgs, DumpArgs, InfoArgs, NormalizeArgs};
use self::output::{Out, Shown, exit};
use crate::read::header;
use crate::tools::check::parse_contents;
use crate::tools::file::{self, FileError, HEAD};
use crate::tools::reading::{How, Reading};
use crate::tools::{check::write_file_error, dis, dump, infer, json};
use crate::write::normalize;
use clap::Parser;
use core::fmt::Write as _;
use std::ffi::OsString;
use std::io::{self, Read as _};

/// Runs `pyc` with `args` (the program's name first, as `std::env::args_os` gives them) and returns its
/// exit status: 0 when every file is ok, 1 when a problem was found, 2 for a usage error.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return u8::try_from(error.exit_code()).unwrap_or(2);
        }
    };
    let mut out = Out::stdout();
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &mut out),
        Command::Info(args) => run_info(&args, &mut out),
        Command::Dump(args) => run_dump(&args, &mut out),
        Command::Dis(args) => run_dis(&args, &mut out),
        Command::Normalize(args) => run_normalize(&args, &mut out),
        Command::Clean(args) => clean::run(&args, &mut out),
    };
    match result.and_then(|code| out.flush().map(|()| code)) {
        Ok(code) => code,
        // A closed pipe (`pyc check ... | head`) is the reader's choice, not an error.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => 1,
        Err(error) => {
            eprintln!("pyc: {error}");
            2
        }
    }
}

/// The header of each file, read from its first bytes only.
fn run_info(args: &InfoArgs, out: &mut Out) -> io::Result<u8> {
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
                    writeln!(text, "file:         {}", Shown(path))?;
                    dump::write_header(text, header)
                })?;
            }
            Ok(Err(error)) => eprintln!("{}: {error}", Shown(path)),
            Err(error) => eprintln!("{}: unreadable: {error}", Shown(path)),
        }
    }
    Ok(exit(problems))
}

fn run_dump(args: &DumpArgs, out: &mut Out) -> io::Result<u8> {
    let name = Shown(&args.file);
    let contents = match file::read_pyc(&args.file, true) {
        Ok(contents) if contents.is_whole() => contents,
        Ok(contents) => {
            let error = parse_contents(&contents).err();
            return show_failed(
                &args.file,
                args.json.then_some(Shape::Dump),
                out,
                error.map(Failure::Decode),
            );
        }
        Err(error) => {
            let shape = args.json.then_some(Shape::Dump);
            return show_failed(&args.file, shape, out, Some(Failure::File(error)));
        }
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

fn run_dis(args: &DisArgs, out: &mut Out) -> io::Result<u8> {
    let mut problems = false;
    for (i, path) in args.files.iter().enumerate() {
        if args.files.len() > 1 && !args.json {
            let gap = if i > 0 { "\n" } else { "" };
            out.text(|text| write!(text, "{gap}# {}\n\n", Shown(path)))?;
        }
        problems |= dis_one(path, args.json, out)? != 0;
    }
    Ok(exit(problems))
}

/// Disassembles one file: the JSON object (its `path` first) or the text; the fault on stderr.
fn dis_one(path: &std::path::Path, json: bool, out: &mut Out) -> io::Result<u8> {
    let contents = match file::read_pyc(path, true) {
        Ok(contents) if contents.is_whole() => contents,
        Ok(contents) => {
            let error = parse_contents(&contents).err();
            return show_failed(
                path,
                json.then_some(Shape::Dis),
                out,
                error.map(Failure::Decode),
            );
        }
        Err(error) => {
            return show_failed(
                path,
                json.then_some(Shape::Dis),
                out,
                Some(Failure::File(error)),
            );
        }
    };
    let reading = Reading::new(&contents.data, How::default());
    let partial = reading.parse();
    let root = partial.objects.root();
    let parse_error = partial.error.as_ref();
    let mut error = None;
    if json {
        out.text(|text| {
            text.write_str("{\"path\":")?;
            json::write_str(text, &path.to_string_lossy())?;
            text.write_char(',')?;
            error = dis::write_json_fields(text, partial.header.as_ref(), root, parse_error)?;
            text.write_str("}\n")
        })?;
    } else if let Some(root) = root {
        out.text(|text| {
            error = dis::write_text(text, root)?;
            Ok(())
        })?;
    }
    let error = parse_error.cloned().or(error);
    if let Some(error) = &error {
        out.flush()?;
        eprintln!("{}: {error}", Shown(path));
    }
    Ok(exit(error.is_some()))
}

/// Which command's JSON object a file that could not be read gets.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Shape {
    /// `pyc dump --json`: `{"header": null, "root": null, "error"}`.
    Dump,
    /// `pyc dis --json`: `{"path", "header": null, "opcodes": null, "code": [], "error"}`.
    Dis,
}

/// Why a file could not be shown at all.
enum Failure {
    File(FileError),
    Decode(crate::Error),
}

/// What `pyc dump` says of a file it could not read whole: the JSON form with only the error, or the
/// error on stderr.
fn show_failed(
    path: &std::path::Path,
    json: Option<Shape>,
    out: &mut Out,
    failure: Option<Failure>,
) -> io::Result<u8> {
    let Some(failure) = failure else {
        return Ok(exit(true));
    };
    if let Some(shape) = json {
        out.text(|text| {
            match shape {
                Shape::Dis => {
                    text.write_str("{\"path\":")?;
                    json::write_str(text, &path.to_string_lossy())?;
                    text.write_str(",\"header\":null,\"opcodes\":null,\"code\":[],\"error\":")?;
                }
                Shape::Dump => text.write_str("{\"header\":null,\"root\":null,\"error\":")?,
            }
            match &failure {
                Failure::File(error) => write_file_error(text, path, error)?,
                Failure::Decode(error) => json::write_error(text, error)?,
            }
            text.write_str("}\n")
        })?;
    }
    match &failure {
        Failure::File(error) => eprintln!("{}: unreadable: {error}", Shown(path)),
        Failure::Decode(error) => eprintln!("{}: {error}", Shown(path)),
    }
    Ok(exit(true))
}

fn run_normalize(args: &NormalizeArgs, out: &mut Out) -> io::Result<u8> {
    if args.output.is_some() && args.files.len() > 1 {
        eprintln!("pyc normalize: -o takes one FILE, not {}", args.files.len());
        return Ok(2);
    }
    let mut problems = false;
    for path in &args.files {
        let name = Shown(path);
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
        let result =
            crate::parse_pyc(&data).and_then(|pyc| normalize::write_pyc(&mut normalized, &pyc));
        if let Err(error) = result {
            // What normalizing refuses says so itself; a file that does not parse is read first.
            match error.kind() {
                crate::ErrorKind::Unsupported(_) => eprintln!("{name}: {error}"),
                _ => eprintln!("{name}: cannot normalize: {error}"),
            }
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
                    Shown(target),
                    data.len(),
                    normalized.len()
                )
            })?,
            Err(error) => {
                eprintln!("{}: cannot write: {error}", Shown(target));
                problems = true;
            }
        }
    }
    Ok(exit(problems))
}
