//! The command's arguments, as clap reads them, with the help texts.

use crate::Python;
use crate::tools::check::Status;
use crate::tools::clean::REMOVABLE;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::prelude::rust_2024::*;

const EXIT_STATUS: &str = "\
Exit status:
  0  every file is ok
  1  a problem was found in at least one file, a file could not be read, or there was nothing to check
  2  usage error (bad arguments)";

const INFO_EXIT_STATUS: &str = "\
Exit status:
  0  every header was read
  1  a file could not be read, or its header could not be decoded
  2  usage error (bad arguments)";

const SHOW_EXIT_STATUS: &str = "\
Exit status:
  0  the file decoded whole
  1  the file could not be read or decoded (what decoded before the fault is shown, then the fault)
  2  usage error (bad arguments, an unknown --python version)";

const CHECK_ABOUT: &str = "\
Checks every .pyc and .pyo file under the given paths as importlib would, without running Python.

Each file gets one status, decided in this order:
  header       incomplete-write (zero placeholder magic), unknown-magic, truncated, corrupt (bad flags)
  body         truncated, corrupt (a strict parse: one code object, no trailing bytes)
  name         tag-mismatch (the cache tag in NAME.TAG.pyc is not the magic's interpreter)
  source       orphan (a __pycache__ file without its source), stale (the source's mtime and size, or
               the SipHash of its bytes for checked-hash pycs, differ from the header's)
Files that pass all of these are ok. A file that cannot be read, or is not a regular file (a FIFO, a
device, a socket, a link put at its name once the walk listed it), is unreadable; one that a writer
changed every time it was read is changing. Symbolic links met while walking are skipped unless -L.
Unchecked-hash pycs are ok whatever their source says, and a legacy NAME.pyc without a NAME.py beside
it is ok (importlib loads it as sourceless).

Prints one line per problem and a summary; with --json, one JSON object per file and a summary object.";

/// Check, inspect and dump Python .pyc files of every version, offline.
#[derive(Parser)]
#[command(name = "pyc", version, after_help = EXIT_STATUS)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check .pyc files and cache trees: ok, stale, orphan, truncated, corrupt, unknown-magic,
    /// tag-mismatch, incomplete-write, changing or unreadable.
    #[command(long_about = CHECK_ABOUT, after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Show the header of .pyc files in words: magic, interpreter, flags, invalidation, mtime or hash.
    #[command(after_help = INFO_EXIT_STATUS)]
    Info(InfoArgs),
    /// Show the decoded objects of a .pyc file (or of raw marshal data), Python-repr style.
    #[command(after_help = SHOW_EXIT_STATUS)]
    Dump(DumpArgs),
    /// Disassemble a .pyc file: instructions, line numbers and exception tables of every code object.
    #[command(long_about = DIS_ABOUT, after_help = SHOW_EXIT_STATUS)]
    Dis(DisArgs),
    /// Rewrite .pyc files so their bytes depend only on their value (reproducible builds).
    #[command(long_about = NORMALIZE_ABOUT, after_help = NORMALIZE_EXIT_STATUS)]
    Normalize(NormalizeArgs),
    /// Remove the caches importlib would refuse or rewrite (stale, orphan, truncated, corrupt, ...);
    /// never an ok one.
    #[command(long_about = CLEAN_ABOUT, after_help = CLEAN_EXIT_STATUS)]
    Clean(CleanArgs),
}

const DIS_ABOUT: &str = "\
Disassembles every code object of a .pyc file, in pre-order (a code object, then the code objects
among its constants), laid out like python -m dis of the file's own version: the line where one
begins, >> on a jump's target, the offset, the instruction, its argument and what it stands for, then
the exception table (3.11+). On a damaged file, everything that decodes is shown, then the fault.

Every version CPython and PyPy wrote is read with its own opcodes; GraalPy's, RustPython's and
Dropbox's bytecodes are not disassembled. With --json, one object: {\"header\", \"opcodes\" (the
opcode set read with), \"code\": [...], \"error\"}; the README documents it.";

const CLEAN_ABOUT: &str = "\
Removes the .pyc and .pyo files under the given paths that importlib would refuse or rewrite: those that
pyc check calls stale, orphan, truncated, corrupt, unknown-magic, tag-mismatch or incomplete-write
(--only chooses among them). An ok file is never removed, nor a changing or unreadable one.

Each file is read once, without following a symbolic link at its name, and judged as pyc check judges
it; just before it is removed, it is checked to be still the file that was read (device, inode, size,
mtime), so a cache that a writer replaced or rewrote in the meantime is left alone.

Prints one line per file with a problem (removed, would remove, kept) and a summary; with --json, one
JSON object per file (pyc check's, with \"action\" and \"action_error\") and a summary object.";

const CLEAN_EXIT_STATUS: &str = "\
Exit status:
  0  nothing is left that should go
  1  a file would be removed (--dry-run), could not be removed, or could not be judged (changing,
     unreadable); or there was nothing to clean
  2  usage error (bad arguments)";

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
pub struct CheckArgs {
    /// Files and directories; directories are walked for *.pyc and *.pyo files.
    #[arg(required_unless_present = "pycache_prefix", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print JSON Lines: one object per file (path, status, python, implementation, magic,
    /// invalidation, source, message, error, bytes), then one summary object without a "path" key.
    #[arg(long)]
    pub json: bool,
    /// Check headers, bodies and names only; never look at sources (so nothing is stale or orphan).
    #[arg(long)]
    pub no_source: bool,
    /// Also decode every code object's bytecode, line table and exception table, and check that they
    /// agree (opcodes defined, arguments in range, jumps onto instructions, tables inside the code).
    #[arg(long)]
    pub deep: bool,
    /// Follow symbolic links while walking directories; a directory reached twice (lib64 -> lib) is
    /// walked once.
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Check with this many threads [default: one per core; at most four per core].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Caches under DIR were written with -X pycache_prefix=DIR (PYTHONPYCACHEPREFIX): DIR/SRC/NAME.TAG.pyc
    /// is the cache of /SRC/NAME.py, as importlib lays them out. Without a PATH, DIR is checked.
    #[arg(long, value_name = "DIR")]
    pub pycache_prefix: Option<PathBuf>,
}

impl CheckArgs {
    /// The paths to walk: those given, or the pycache prefix alone.
    pub fn walked(&self) -> Vec<PathBuf> {
        match (&self.pycache_prefix, self.paths.is_empty()) {
            (Some(prefix), true) => vec![prefix.clone()],
            _ => self.paths.clone(),
        }
    }
}

#[derive(Args)]
pub struct CleanArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// List what would be removed; remove nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Remove files of these statuses only (comma-separated): stale, orphan, truncated, corrupt,
    /// unknown-magic, tag-mismatch, incomplete-write [default: all of them].
    #[arg(long, value_name = "STATUS,...", value_delimiter = ',', value_parser = removable)]
    pub only: Vec<Status>,
}

/// A status `pyc clean` may remove, by name.
fn removable(name: &str) -> Result<Status, String> {
    let names = || {
        REMOVABLE
            .iter()
            .map(|status| status.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match REMOVABLE.iter().find(|status| status.name() == name) {
        Some(&status) => Ok(status),
        None if Status::ALL.iter().any(|status| status.name() == name) => Err(format!(
            "files that are {name} are never removed; the statuses that are: {}",
            names()
        )),
        None => Err(format!(
            "no status is called {name}; removable: {}",
            names()
        )),
    }
}

#[derive(Args)]
pub struct InfoArgs {
    /// The .pyc files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file: {"path", "header", "error"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct DumpArgs {
    /// The .pyc file (or, with --no-header, raw marshal data).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print the JSON form {"header", "root", "error"} instead; also when decoding fails (with "error"
    /// set, and "root" null unless --tolerant).
    #[arg(long)]
    pub json: bool,
    /// Show what was decoded before a fault, then the fault.
    #[arg(long)]
    pub tolerant: bool,
    /// Read the data as this version wrote it, whatever the magic says: 3.11, 2.7, pypy3.9.
    #[arg(long, value_name = "X.Y", value_parser = |text: &str| text.parse::<Python>().map_err(|e| e.to_string()))]
    pub python: Option<Python>,
    /// The file is raw marshal data (marshal.dumps output, or a .pyc body whose header a packer
    /// stripped). Without --python, the version is inferred from the data's structure.
    #[arg(long)]
    pub no_header: bool,
    /// Ignore the header: infer where the marshal data starts and which version wrote it from its
    /// structure (for unknown or wrong magic numbers).
    #[arg(long, conflicts_with_all = ["no_header", "python"])]
    pub infer: bool,
    /// Start each line with the byte offset of the object it shows.
    #[arg(long)]
    pub offsets: bool,
}

#[derive(Args)]
pub struct DisArgs {
    /// The .pyc files (several: each disassembly after a `# FILE` line).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON object a line per file, {"path", "header", "opcodes", "code": [...], "error"},
    /// instead: the code objects in pre-order, each with its instructions, line_starts, lines,
    /// positions and exception_table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct NormalizeArgs {
    /// The .pyc files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write the result here instead of over the file (one FILE only).
    #[arg(short = 'o', long, value_name = "OUT", conflicts_with = "check")]
    pub output: Option<PathBuf>,
    /// Write nothing; list the files that are not normalized (exit status 1 if any).
    #[arg(long)]
    pub check: bool,
}
