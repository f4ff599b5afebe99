//! Cache-tree checks: would importlib load this `.pyc`, decided offline from the file's name, its bytes
//! and its source, without running Python.
//!
//! [`Checker::check_path`] gives one file a [`Status`], in the order an importer meets the problems: the
//! header (magic known, flags valid), the body (a strict parse: one code object, nothing after it), the
//! name (the cache tag in a `__pycache__` name agrees with the magic), then the source (mtime and size,
//! or the keyed SipHash of its bytes, as importlib compares them). The first problem found decides.
//! Files are read as [`crate::tools::file`] reads them (no blocking, no link followed unless asked,
//! bounded, read again when a writer changes them meanwhile), and the body is validated, never built
//! into a table, so a check's memory is the file's size plus a small constant.

use crate::base::error::{Context, Error, ErrorKind};
use crate::base::limits::MAX_INPUT;
use crate::bytecode::{self, Bytecode};
use crate::format::magic::{Implementation, MagicEntry, Python};
use crate::read::dialect::dropbox;
use crate::read::header::{self, Header, Invalidation};
use crate::read::options::Options;
use crate::tools::file::{self, FileError};
use crate::tools::{dis, json};
use core::fmt::{self, Write};
use core::hash::Hasher as _;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;
use std::{format, fs, io};

/// What `pyc check` says about one file. The set is fixed: scripts match on [`Status::name`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// importlib would load it: valid, named for its magic, and current with its source (or sourceless
    /// beside where the source would be, which importlib loads as is).
    Ok,
    /// The source changed since the file was written (mtime or size, or the hash of a checked-hash pyc).
    Stale,
    /// A `__pycache__` file whose source is gone: importlib never looks at it.
    Orphan,
    /// The data ends before an object it began: cut short, in the header or in the body.
    Truncated,
    /// Any other decode error: bad flags, a bad type code or length, a root that is not code, trailing
    /// bytes, a payload that is not CPython marshal...
    Corrupt,
    /// A magic number that no known interpreter writes.
    UnknownMagic,
    /// The cache tag in the name (`cpython-311`) is not the one of the magic's interpreter, or a file in
    /// `__pycache__` is not named `NAME.TAG.pyc` at all.
    TagMismatch,
    /// The all-zero placeholder magic that old writers put first and patched last: the write never ended.
    IncompleteWrite,
    /// The file (or its source) changed every time it was read: a writer is at work. Nothing is said of
    /// its contents; check it again later.
    Changing,
    /// The file (or its source) could not be read, or is not a regular file.
    Unreadable,
}

impl Status {
    /// Every status, in the order summaries list them.
    pub const ALL: [Status; 10] = [
        Status::Ok,
        Status::Stale,
        Status::Orphan,
        Status::Truncated,
        Status::Corrupt,
        Status::UnknownMagic,
        Status::TagMismatch,
        Status::IncompleteWrite,
        Status::Changing,
        Status::Unreadable,
    ];

    /// The stable lowercase name: `ok`, `stale`, `orphan`, `truncated`, `corrupt`, `unknown-magic`,
    /// `tag-mismatch`, `incomplete-write`, `changing`, `unreadable`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Stale => "stale",
            Status::Orphan => "orphan",
            Status::Truncated => "truncated",
            Status::Corrupt => "corrupt",
            Status::UnknownMagic => "unknown-magic",
            Status::TagMismatch => "tag-mismatch",
            Status::IncompleteWrite => "incomplete-write",
            Status::Changing => "changing",
            Status::Unreadable => "unreadable",
        }
    }

    /// The status a decode error gives a file.
    pub fn of_error(kind: &ErrorKind) -> Status {
        match kind {
            ErrorKind::Truncated { .. } => Status::Truncated,
            ErrorKind::PlaceholderMagic => Status::IncompleteWrite,
            ErrorKind::UnknownMagic(_) => Status::UnknownMagic,
            _ => Status::Corrupt,
        }
    }

    fn index(self) -> usize {
        Status::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The keyed hash importlib stores in hash-based pycs (`importlib.util.source_hash`), fed a block at a
/// time: SipHash of the source bytes with the magic word (`magic | 0x0D0A << 16`, as a little-endian
/// integer) as k0 and zero as k1; SipHash-1-3 from CPython 3.11, SipHash-2-4 before and in PyPy.
#[derive(Clone, Debug)]
pub enum SourceHasher {
    /// CPython 3.11 and later.
    Sip13(siphasher::sip::SipHasher13),
    /// Before 3.11, and PyPy.
    Sip24(siphasher::sip::SipHasher24),
}

impl SourceHasher {
    /// The hasher for files with this version and magic word.
    pub fn new(python: Python, word: [u8; 4]) -> SourceHasher {
        let k0 = u64::from(u32::from_le_bytes(word));
        if python.implementation == Implementation::CPython
            && (python.major, python.minor) >= (3, 11)
        {
            SourceHasher::Sip13(siphasher::sip::SipHasher13::new_with_keys(k0, 0))
        } else {
            SourceHasher::Sip24(siphasher::sip::SipHasher24::new_with_keys(k0, 0))
        }
    }

    /// Feeds the next bytes of the source.
    pub fn write(&mut self, bytes: &[u8]) {
        match self {
            SourceHasher::Sip13(hasher) => hasher.write(bytes),
            SourceHasher::Sip24(hasher) => hasher.write(bytes),
        }
    }

    /// The hash as the file stores it (little-endian, the bytes at offset 8).
    pub fn finish(&self) -> [u8; 8] {
        match self {
            SourceHasher::Sip13(hasher) => hasher.finish(),
            SourceHasher::Sip24(hasher) => hasher.finish(),
        }
        .to_le_bytes()
    }
}

/// [`SourceHasher`] over a whole source in memory: the bytes a hash-based pyc of `python` and `word`
/// stores at offset 8 for it.
pub fn source_hash(python: Python, word: [u8; 4], source: &[u8]) -> [u8; 8] {
    let mut hasher = SourceHasher::new(python, word);
    hasher.write(source);
    hasher.finish()
}

/// Magics that PyPy builds share with CPython, so both implementations' tags agree with them (some PyPy
/// 3.8 builds write CPython 3.8's 3413).
const SHARED_WITH_PYPY: &[u16] = &[3413];

/// The `sys.implementation.cache_tag` that the interpreter of `python` puts in `__pycache__` names:
/// `cpython-311`, `pypy39`. `None` for versions that write no `__pycache__` (everything before 3.2) and
/// for implementations whose tag carries more than the language version (GraalPy, RustPython).
pub fn cache_tag(python: Python) -> Option<String> {
    let (major, minor) = (python.major, python.minor);
    match python.implementation {
        Implementation::CPython if (major, minor) >= (3, 2) => {
            Some(format!("cpython-{major}{minor}"))
        }
        Implementation::PyPy if major >= 3 => Some(format!("pypy{major}{minor}")),
        _ => None,
    }
}

/// True when a file named with cache tag `tag` may hold a body with this magic.
pub fn tag_agrees(entry: &MagicEntry, tag: &str) -> bool {
    let python = entry.python;
    let pypy = || format!("pypy{}{}", python.major, python.minor);
    match python.implementation {
        Implementation::CPython => {
            cache_tag(python).as_deref() == Some(tag)
                || (SHARED_WITH_PYPY.contains(&entry.magic) && tag == pypy())
        }
        // PyPy3 before 3.6 used other tag spellings; any `pypy` tag is accepted for them.
        Implementation::PyPy if (python.major, python.minor) >= (3, 6) => tag == pypy(),
        Implementation::PyPy => python.major >= 3 && tag.starts_with("pypy"),
        Implementation::GraalPy => tag.starts_with("graalpy"),
        Implementation::RustPython => tag.starts_with("rustpython"),
        _ => false,
    }
}

/// Where a cache file stands, as its path tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheName {
    /// PEP 3147/488: `DIR/__pycache__/NAME.TAG.pyc` or `NAME.TAG.opt-N.pyc`, the file importlib's
    /// `cache_from_source` gives for the source `DIR/NAME.py` (NAME may hold dots of its own); or the
    /// same name under a pycache prefix ([`CacheName::in_prefix`]).
    Pycache {
        /// The cache tag (`cpython-311`).
        tag: String,
        /// `opt-1`, `opt-2`, or `None` for an unoptimized file.
        optimization: Option<String>,
        /// Where the source is: `DIR/NAME.py`.
        source: PathBuf,
    },
    /// A file in `__pycache__` (or under a pycache prefix) whose name is not `NAME.TAG[.opt-N].pyc`:
    /// importlib never loads it.
    BadPycache,
    /// Anything outside `__pycache__`: the legacy `NAME.pyc` (or `.pyo`) beside `NAME.py`, loaded without
    /// a source when there is none. A `NAME.TAG.pyc` outside `__pycache__` (a `pycache_prefix` tree)
    /// keeps its tag, which must agree with the magic, and looks for `NAME.py` beside it.
    Legacy {
        /// The cache tag, when the name carries one.
        tag: Option<String>,
        /// Where the source would be.
        source: PathBuf,
    },
}

/// Splits `NAME.LAST` at its last dot: (`NAME`, `LAST`), or `None` without a dot (or with an empty
/// part). Works on the OS string itself, so a name that is not UTF-8 keeps its bytes.
fn split_last(name: &OsStr) -> Option<(&OsStr, &OsStr)> {
    let path = Path::new(name);
    let stem = path.file_stem()?;
    let last = path.extension()?;
    (!stem.is_empty() && !last.is_empty()).then_some((stem, last))
}

/// `NAME` + `.py`, as an OS string.
fn source_name(name: &OsStr) -> OsString {
    let mut source = name.to_os_string();
    source.push(".py");
    source
}

/// A cache file's name read from the right, as importlib's `cache_from_source` writes it for the source
/// `NAME.py`: the extension, an optional `opt-N`, the tag, and all the rest (dots included) as `NAME`.
/// `None` for a name that has no tag (`m.pyc`).
///
/// From the right, because importlib reads caches only that way. The loader never parses a cache's name:
/// `SourceLoader.get_code` computes it from the source (`cache_from_source("__phello__.foo.py")` is
/// `__pycache__/__phello__.foo.cpython-310.pyc`), reads it and takes it as current when its header
/// agrees with the source, as CPython 3.8, 3.10 and 3.13 do for `a.b.py` (its loader then reads the
/// cache alone, and the source too once the source is touched). Only `source_from_cache` parses from
/// the left, by counting dots, and refuses that name ("optimization portion of filename does not start
/// with 'opt-'"): compileall and the importer never call it.
fn tagged(file_name: &OsStr) -> Option<(&OsStr, String, Option<String>)> {
    let (rest, _extension) = split_last(file_name)?;
    let (rest, last) = split_last(rest)?;
    let last = last.to_string_lossy();
    if is_opt(&last) {
        let (name, tag) = split_last(rest)?;
        return Some((
            name,
            tag.to_string_lossy().into_owned(),
            Some(last.into_owned()),
        ));
    }
    Some((rest, last.into_owned(), None))
}

impl CacheName {
    /// Reads the layout from a path, as importlib's `cache_from_source` lays names out (see `tagged`):
    /// from the right, the extension, an optional `opt-N`, the tag, and the rest as the source's name.
    pub fn of(path: &Path) -> CacheName {
        let dir = path.parent().unwrap_or(Path::new(""));
        let Some(file_name) = path.file_name() else {
            return CacheName::Legacy {
                tag: None,
                source: path.with_extension("py"),
            };
        };
        let tagged = tagged(file_name);
        if dir.file_name() == Some(OsStr::new("__pycache__")) {
            let source_dir = dir.parent().unwrap_or(Path::new(""));
            return CacheName::in_cache_dir(tagged, source_dir);
        }
        match tagged {
            Some((name, tag, _)) if looks_like_tag(&tag) => CacheName::Legacy {
                tag: Some(tag),
                source: dir.join(source_name(name)),
            },
            _ => CacheName::Legacy {
                tag: None,
                source: path.with_extension("py"),
            },
        }
    }

    /// Reads the layout of a file under a `sys.pycache_prefix` tree (`-X pycache_prefix=PREFIX`,
    /// `PYTHONPYCACHEPREFIX`), or `None` when `path` is not under `prefix`. There, importlib's
    /// `cache_from_source` puts the cache of `/DIR/NAME.py` at `PREFIX/DIR/NAME.TAG.pyc`: the source's
    /// directory made absolute (joined to the working directory, `..` kept), its root dropped, under the
    /// prefix; `source_from_cache` strips the prefix as a string. So does this: both paths are made
    /// absolute as importlib makes them and compared component by component, without resolving links.
    pub fn in_prefix(path: &Path, prefix: &Path) -> Option<CacheName> {
        let path = std::path::absolute(path).ok()?;
        let prefix = std::path::absolute(prefix).ok()?;
        let relative = path.strip_prefix(&prefix).ok()?;
        let file_name = relative.file_name()?;
        let source_dir = Path::new(std::path::MAIN_SEPARATOR_STR).join(relative.parent()?);
        Some(CacheName::in_cache_dir(tagged(file_name), &source_dir))
    }

    /// The name of a file in a directory where importlib writes only `NAME.TAG[.opt-N].pyc` names, for
    /// sources in `source_dir`.
    fn in_cache_dir(
        tagged: Option<(&OsStr, String, Option<String>)>,
        source_dir: &Path,
    ) -> CacheName {
        match tagged {
            Some((name, tag, optimization)) => CacheName::Pycache {
                tag,
                optimization,
                source: source_dir.join(source_name(name)),
            },
            None => CacheName::BadPycache,
        }
    }

    /// The cache tag in the name, if any.
    pub fn tag(&self) -> Option<&str> {
        match self {
            CacheName::Pycache { tag, .. } => Some(tag),
            CacheName::Legacy { tag, .. } => tag.as_deref(),
            CacheName::BadPycache => None,
        }
    }
}

/// `opt-N` with an alphanumeric level, as importlib requires.
fn is_opt(part: &str) -> bool {
    part.strip_prefix("opt-")
        .is_some_and(|level| !level.is_empty() && level.chars().all(char::is_alphanumeric))
}

/// A tag of a known implementation, so that `m.cpython-311.pyc` outside `__pycache__` is read as tagged
/// but `setup.old.pyc` is not.
fn looks_like_tag(part: &str) -> bool {
    ["cpython-", "pypy", "graalpy", "rustpython"]
        .iter()
        .any(|prefix| part.starts_with(prefix))
}

/// Why a file is not [`Status::Ok`].
#[derive(Debug)]
pub enum Problem {
    /// The header or body does not decode.
    Decode(Error),
    /// The file or its source could not be read whole.
    File {
        /// The path that failed: the file or its source.
        path: PathBuf,
        /// Why.
        error: FileError,
    },
    /// The name's cache tag disagrees with the magic; `tag` is `None` for a `__pycache__` file that is
    /// not named `NAME.TAG.pyc`.
    TagMismatch {
        /// The tag in the name.
        tag: Option<String>,
    },
    /// A `__pycache__` file without its source.
    Orphan {
        /// Where the source should be.
        source: PathBuf,
        /// What is there instead, when something that is not a regular file is (a FIFO, a
        /// directory): importlib's finder takes only a file for a source.
        instead: Option<&'static str>,
    },
    /// The source is not the one the file was compiled from.
    Stale(Staleness),
}

/// What differs between the source and what the header recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staleness {
    /// A timestamp pyc: the source's mtime or size (as importlib masks them) is not the stored one.
    Timestamp {
        /// The stored mtime.
        stored_mtime: u32,
        /// The source's mtime, in whole seconds (as `int(st_mtime)`).
        mtime: i64,
        /// The stored size, when the header has one (3.3+).
        stored_size: Option<u32>,
        /// The source's size.
        size: u64,
    },
    /// A checked-hash pyc: the source's keyed hash is not the stored one.
    Hash {
        /// The stored hash.
        stored: [u8; 8],
        /// The source's hash.
        actual: [u8; 8],
    },
}

/// The verdict on one file, with what it was based on.
#[derive(Debug)]
pub struct Report {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes (0 when it could not be read).
    pub bytes: u64,
    /// The header, when it could be read.
    pub header: Option<Header>,
    /// The source it was compared with, if it was.
    pub source: Option<PathBuf>,
    /// Why it is not ok; `None` when it is.
    pub problem: Option<Problem>,
}

impl Report {
    /// The report on a path that could not be read, or walked.
    pub fn unreadable(path: &Path, error: FileError) -> Report {
        Report {
            path: path.to_path_buf(),
            bytes: 0,
            header: None,
            source: None,
            problem: Some(Problem::File {
                path: path.to_path_buf(),
                error,
            }),
        }
    }

    /// The verdict.
    pub fn status(&self) -> Status {
        match &self.problem {
            None => Status::Ok,
            Some(Problem::Decode(error)) => Status::of_error(error.kind()),
            Some(Problem::File {
                error: FileError::Changing,
                ..
            }) => Status::Changing,
            Some(Problem::File { .. }) => Status::Unreadable,
            Some(Problem::TagMismatch { .. }) => Status::TagMismatch,
            Some(Problem::Orphan { .. }) => Status::Orphan,
            Some(Problem::Stale(_)) => Status::Stale,
        }
    }

    /// The problem in words, without the path: what `pyc check` prints after `PATH: `.
    pub fn message(&self) -> Option<String> {
        let problem = self.problem.as_ref()?;
        let mut out = String::new();
        let status = self.status();
        let _ = match problem {
            Problem::Decode(error) if status == Status::Corrupt => {
                write!(out, "corrupt: {error}")
            }
            Problem::Decode(error) => write!(out, "{error}"),
            Problem::File { path, error } if *path == self.path => {
                write!(out, "{status}: {error}")
            }
            Problem::File { path, error } => {
                write!(out, "{status}: source {}: {error}", path.display())
            }
            Problem::TagMismatch { tag: None } => {
                let place = match self.path.parent().and_then(Path::file_name) {
                    Some(dir) if dir == "__pycache__" => "in __pycache__",
                    _ => "under the pycache prefix",
                };
                write!(
                    out,
                    "tag-mismatch: {place} but not named NAME.TAG.pyc or NAME.TAG.opt-N.pyc"
                )
            }
            Problem::TagMismatch { tag: Some(tag) } => self.write_tag_mismatch(&mut out, tag),
            Problem::Orphan {
                source,
                instead: None,
            } => write!(out, "orphan: no source {}", source.display()),
            Problem::Orphan {
                source,
                instead: Some(kind),
            } => write!(
                out,
                "orphan: no source {} (it is {kind}, not a regular file)",
                source.display()
            ),
            Problem::Stale(staleness) => self.write_stale(&mut out, staleness),
        };
        Some(out)
    }

    fn write_tag_mismatch(&self, out: &mut String, tag: &str) -> fmt::Result {
        write!(out, "tag-mismatch: named {tag}")?;
        let Some(header) = &self.header else {
            return Ok(());
        };
        let python = header.python;
        write!(
            out,
            " but magic {} is {} {}.{}",
            header.magic(),
            python.implementation.name(),
            python.major,
            python.minor
        )?;
        match cache_tag(header.python) {
            Some(expected) => write!(out, " ({expected})"),
            None => out.write_str(", which writes no __pycache__ files"),
        }
    }

    fn write_stale(&self, out: &mut String, staleness: &Staleness) -> fmt::Result {
        out.write_str("stale: source ")?;
        if let Some(source) = &self.source {
            write!(out, "{} ", source.display())?;
        }
        out.write_str("changed: ")?;
        match staleness {
            Staleness::Timestamp {
                stored_mtime,
                mtime,
                stored_size,
                size,
            } => {
                out.write_str("mtime ")?;
                crate::tools::dump::write_timestamp(out, *mtime)?;
                if !mtime_agrees(self.python(), *stored_mtime, *mtime) {
                    out.write_str(", pyc says ")?;
                    crate::tools::dump::write_timestamp(out, i64::from(*stored_mtime))?;
                }
                write!(out, "; size {size}")?;
                match stored_size {
                    // The size is compared as stored: its low 32 bits.
                    Some(stored) if *stored != *size as u32 => write!(out, ", pyc says {stored}"),
                    _ => Ok(()),
                }
            }
            Staleness::Hash { stored, actual } => {
                write!(
                    out,
                    "hash {}, pyc says {}",
                    json::Hex(actual),
                    json::Hex(stored)
                )
            }
        }
    }

    fn python(&self) -> Python {
        self.header.map_or(Python::LATEST, |h| h.python)
    }

    /// Writes one JSON object (no newline): `path`, `status`, `python`, `implementation`, `magic`,
    /// `invalidation`, `source`, `message`, `error`, `bytes`; `null` where there is nothing to say.
    pub fn write_json(&self, out: &mut impl Write) -> fmt::Result {
        out.write_char('{')?;
        self.write_json_members(out)?;
        out.write_char('}')
    }

    /// The members of [`Report::write_json`]'s object, without the braces, for objects that say more.
    pub fn write_json_members(&self, out: &mut impl Write) -> fmt::Result {
        out.write_str("\"path\":")?;
        json::write_str(out, &self.path.to_string_lossy())?;
        out.write_str(",\"status\":")?;
        json::write_str(out, self.status().name())?;
        match &self.header {
            Some(header) => {
                let python = header.python;
                write!(
                    out,
                    ",\"python\":\"{}.{}\",\"implementation\":\"{}\",\"magic\":{},\"invalidation\":\"{}\"",
                    python.major,
                    python.minor,
                    python.implementation.name(),
                    header.magic(),
                    header.invalidation.name()
                )?;
            }
            None => out.write_str(
                ",\"python\":null,\"implementation\":null,\"magic\":null,\"invalidation\":null",
            )?,
        }
        out.write_str(",\"source\":")?;
        match &self.source {
            Some(source) => json::write_str(out, &source.to_string_lossy())?,
            None => out.write_str("null")?,
        }
        out.write_str(",\"message\":")?;
        match self.message() {
            Some(message) => json::write_str(out, &message)?,
            None => out.write_str("null")?,
        }
        out.write_str(",\"error\":")?;
        match &self.problem {
            Some(Problem::Decode(error)) => json::write_error(out, error)?,
            Some(Problem::File { path, error }) => write_file_error(out, path, error)?,
            _ => out.write_str("null")?,
        }
        write!(out, ",\"bytes\":{}", self.bytes)
    }
}

/// Writes a file error in the shape of [`json::write_error`]'s objects: `{"kind":KIND,"offset":null,
/// "path":PATH,"message":TEXT}`, where `path` is the file that could not be read and `kind` is `io`,
/// `not-regular`, `changing` or `too-large`.
pub fn write_file_error(out: &mut impl Write, path: &Path, error: &FileError) -> fmt::Result {
    let kind = match error {
        FileError::Io(_) => "io",
        FileError::NotRegular(_) => "not-regular",
        FileError::Changing => "changing",
        FileError::TooLarge(_) => "too-large",
    };
    write!(out, "{{\"kind\":\"{kind}\",\"offset\":null,\"path\":")?;
    json::write_str(out, &path.to_string_lossy())?;
    out.write_str(",\"message\":")?;
    json::write_str(out, &error.to_string())?;
    out.write_char('}')
}

/// Whether a stored mtime matches the source's, as the importer of `python` compares them: the low 32
/// bits from 3.7 and in Python 2 and 3.0-3.2 (whose writers never store more); 3.3-3.6 compare
/// unmasked, so a source mtime past 2106 never matches there.
fn mtime_agrees(python: Python, stored: u32, mtime: i64) -> bool {
    if python.major == 3 && (3..=6).contains(&python.minor) {
        i64::from(stored) == mtime
    } else {
        stored == mtime as u32
    }
}

/// Seconds since the epoch as Python's `int(os.stat(path).st_mtime)` gives them: truncated toward zero,
/// also before 1970.
fn mtime_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The error a file too large for the object table gets, once its header has been read.
fn too_large() -> Error {
    let context = Context {
        path: Vec::new(),
        what: "file size",
    };
    Error::new(ErrorKind::InputTooLarge, 0, context)
}

/// The header and body of a file's bytes as read: a file too large to read whole is judged by its
/// header first (so an all-zero one is an incomplete write, whatever its size), then refused.
pub fn parse_contents(contents: &file::Contents) -> Result<Header, Error> {
    let header = header::parse(&contents.data, None)?;
    if !contents.is_whole() {
        return Err(too_large());
    }
    Ok(header)
}

/// The pyc parsed, then the bytecode of every code object verified; the bytecode is not checked
/// where its opcodes are not CPython's or PyPy's. Nearly every file verifies in the skim; the others
/// are parsed and verified again, for the located error and the magic's other readings.
fn deep_check(data: &[u8]) -> Result<(), Error> {
    if bytecode::verifies(&Options::new(), data) {
        return Ok(());
    }
    deep_check_parsed(data)
}

/// [`deep_check`] through the object table: the parse, then every code object verified.
pub(crate) fn deep_check_parsed(data: &[u8]) -> Result<(), Error> {
    let pyc = Options::new().parse_pyc(data)?;
    match pyc.objects.root() {
        Some(root) if root.as_code().is_some_and(|code| code.opcodes().is_ok()) => {
            dis::verify_all(root)
        }
        _ => Ok(()),
    }
}

/// How files are checked.
#[derive(Clone, Debug)]
pub struct Checker {
    sources: bool,
    follow: bool,
    deep: bool,
    /// The pycache prefix, absolute.
    prefix: Option<PathBuf>,
}

impl Default for Checker {
    fn default() -> Checker {
        Checker::new()
    }
}

impl Checker {
    /// Checks everything, sources included; a symbolic link at the file's own path is followed.
    pub const fn new() -> Checker {
        Checker {
            sources: true,
            follow: true,
            deep: false,
            prefix: None,
        }
    }

    /// With `true`, also decodes every code object's bytecode, line table and exception table and
    /// checks that they agree ([`Bytecode::verify`]): damage inside
    /// `co_code` or a line table, which still parses as bytes, is then [`Status::Corrupt`]. Files of
    /// GraalPy, RustPython and Dropbox, whose bytecodes are their own, are checked as without it.
    pub const fn deep(mut self, deep: bool) -> Checker {
        self.deep = deep;
        self
    }

    /// With `false`, checks structure and names only: no file but the pyc is touched, and neither
    /// [`Status::Stale`] nor [`Status::Orphan`] can come out.
    pub const fn sources(mut self, compare: bool) -> Checker {
        self.sources = compare;
        self
    }

    /// With `false`, a symbolic link at the path checked is not followed (it is
    /// [`Status::Unreadable`]): what a walk that does not follow links wants, so that a file swapped
    /// for a link after the walk listed it is not read through the link.
    pub const fn follow_links(mut self, follow: bool) -> Checker {
        self.follow = follow;
        self
    }

    /// Caches under `prefix` are read as importlib lays out a `sys.pycache_prefix` tree
    /// ([`CacheName::in_prefix`]), each compared with its source outside the tree. The prefix is made
    /// absolute against the working directory now, as Python does when it writes there.
    pub fn pycache_prefix(mut self, prefix: &Path) -> io::Result<Checker> {
        self.prefix = Some(std::path::absolute(prefix)?);
        Ok(self)
    }

    /// Reads and checks the file at `path`. Never fails: a file that cannot be read whole is
    /// [`Status::Unreadable`] or [`Status::Changing`].
    pub fn check_path(&self, path: &Path) -> Report {
        match file::read_pyc(path, self.follow) {
            Ok(contents) => self.check_contents(path, &contents),
            Err(error) => Report::unreadable(path, error),
        }
    }

    /// Checks what [`file::read_pyc`] read of the file at `path`.
    pub fn check_contents(&self, path: &Path, contents: &file::Contents) -> Report {
        if contents.is_whole() {
            let mut report = self.check_bytes(path, &contents.data);
            report.bytes = contents.size;
            return report;
        }
        Report {
            path: path.to_path_buf(),
            bytes: contents.size,
            header: header::parse(&contents.data, None).ok(),
            source: None,
            problem: Some(Problem::Decode(
                parse_contents(contents).err().unwrap_or_else(too_large),
            )),
        }
    }

    /// Where the file at `path` stands: under the pycache prefix, or as its own path tells.
    fn cache_name(&self, path: &Path) -> CacheName {
        self.prefix
            .as_deref()
            .and_then(|prefix| CacheName::in_prefix(path, prefix))
            .unwrap_or_else(|| CacheName::of(path))
    }

    /// Checks `data`, the contents of the file at `path` (the path decides the name and source checks).
    pub fn check_bytes(&self, path: &Path, data: &[u8]) -> Report {
        let mut report = Report {
            path: path.to_path_buf(),
            bytes: data.len() as u64,
            header: None,
            source: None,
            problem: None,
        };
        let header = match header::parse(data, None) {
            Ok(header) => header,
            Err(error) => {
                report.problem = Some(Problem::Decode(error));
                return report;
            }
        };
        report.header = Some(header);
        let validated = if header.python.implementation == Implementation::Dropbox {
            // Dropbox's code objects are encrypted: decrypt (errors at offsets in the file), then
            // read the plain stream (errors at offsets in the decrypted data).
            dropbox::decrypt(data).and_then(|plain| dropbox::OPTIONS.validate_pyc(&plain).map(drop))
        } else if self.deep {
            // The parse fails exactly where validating would (the fuzz targets hold them to it).
            deep_check(data)
        } else {
            Options::new().validate_parsed(data, &header)
        };
        if let Err(error) = validated {
            report.problem = Some(Problem::Decode(error));
            return report;
        }
        let name = self.cache_name(path);
        let tag_ok = match (&name, header.entry) {
            (CacheName::BadPycache, _) => false,
            (name, Some(entry)) => name.tag().is_none_or(|tag| tag_agrees(entry, tag)),
            (_, None) => true,
        };
        if !tag_ok {
            report.problem = Some(Problem::TagMismatch {
                tag: name.tag().map(ToString::to_string),
            });
            return report;
        }
        if self.sources {
            self.compare_source(&mut report, &name, &header);
        }
        report
    }

    fn compare_source(&self, report: &mut Report, name: &CacheName, header: &Header) {
        let (source, needed) = match name {
            CacheName::Pycache { source, .. } => (source, true),
            CacheName::Legacy { source, .. } => (source, false),
            CacheName::BadPycache => return,
        };
        let failed = |error: FileError| Problem::File {
            path: source.clone(),
            error,
        };
        // As importlib does: a stat of the source path, links followed.
        let metadata = match fs::metadata(source) {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) | Err(_) if !needed => return,
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                report.problem = Some(failed(FileError::Io(error)));
                return;
            }
            found => {
                report.problem = Some(Problem::Orphan {
                    source: source.clone(),
                    instead: found.ok().map(|metadata| file::kind_of(&metadata)),
                });
                return;
            }
        };
        report.source = Some(source.clone());
        let staleness = match header.invalidation {
            Invalidation::Timestamp {
                mtime: stored_mtime,
                source_size: stored_size,
            } => {
                let mtime = match metadata.modified() {
                    Ok(time) => mtime_seconds(time),
                    Err(error) => {
                        report.problem = Some(failed(FileError::Io(error)));
                        return;
                    }
                };
                let size = metadata.len();
                // importlib masks the size to its low 32 bits, as the writer stored it.
                let size_ok = stored_size.is_none_or(|stored| stored == size as u32);
                if size_ok && mtime_agrees(header.python, stored_mtime, mtime) {
                    return;
                }
                Staleness::Timestamp {
                    stored_mtime,
                    mtime,
                    stored_size,
                    size,
                }
            }
            Invalidation::CheckedHash { hash: stored } => {
                // Streamed through the hash, never held whole; importlib reads a source whole, so one
                // past what a table can index is no source it could have compiled.
                let streamed = file::stream(
                    source,
                    MAX_INPUT as u64,
                    || SourceHasher::new(header.python, header.word),
                    |hasher, block| hasher.write(block),
                );
                let actual = match streamed {
                    Ok(hasher) => hasher.finish(),
                    Err(error) => {
                        report.problem = Some(failed(error));
                        return;
                    }
                };
                if actual == stored {
                    return;
                }
                Staleness::Hash { stored, actual }
            }
            Invalidation::UncheckedHash { .. } => return,
        };
        report.problem = Some(Problem::Stale(staleness));
    }
}

/// Counts of a run, for the closing line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    counts: [u64; Status::ALL.len()],
    /// Files checked.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
}

impl Summary {
    /// Counts one report.
    pub fn add(&mut self, report: &Report) {
        if let Some(count) = self.counts.get_mut(report.status().index()) {
            *count += 1;
        }
        self.files += 1;
        self.bytes += report.bytes;
    }

    /// Files with this status.
    pub fn count(&self, status: Status) -> u64 {
        self.counts.get(status.index()).copied().unwrap_or(0)
    }

    /// Files that are not ok.
    pub fn problems(&self) -> u64 {
        self.files - self.count(Status::Ok)
    }

    /// `1234 files, 5.6 MB in 0.41 s: 1200 ok, 30 stale, 4 orphan` (statuses with no file left out).
    pub fn line(&self, seconds: f64) -> String {
        let mut out = String::new();
        let plural = if self.files == 1 { "" } else { "s" };
        let _ = write!(
            out,
            "{} file{plural}, {:.1} MB in {seconds:.2} s",
            self.files,
            self.bytes as f64 / 1e6
        );
        let mut sep = ": ";
        for status in Status::ALL {
            let count = self.count(status);
            if count > 0 {
                let _ = write!(out, "{sep}{count} {status}");
                sep = ", ";
            }
        }
        out
    }

    /// Writes the closing JSON object (no newline, and no `path` key, unlike the file lines):
    /// `{"counts":{"ok":N,...every status},"files":N,"bytes":N,"seconds":S}`.
    pub fn write_json(&self, out: &mut impl Write, seconds: f64) -> fmt::Result {
        out.write_char('{')?;
        self.write_json_members(out, seconds)?;
        out.write_char('}')
    }

    /// The members of [`Summary::write_json`]'s object, without the braces, for objects that say more.
    pub fn write_json_members(&self, out: &mut impl Write, seconds: f64) -> fmt::Result {
        out.write_str("\"counts\":{")?;
        for (i, status) in Status::ALL.into_iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            write!(out, "\"{status}\":{}", self.count(status))?;
        }
        write!(
            out,
            "}},\"files\":{},\"bytes\":{},\"seconds\":{seconds:.6}",
            self.files, self.bytes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(text: &str) -> [u8; 8] {
        let mut out = [0; 8];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = text
                .get(i * 2..i * 2 + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or_default();
        }
        out
    }

    fn release(major: u8, minor: u8) -> Option<(Python, [u8; 4])> {
        let entry = crate::format::magic::release_of(Python::cpython(major, minor))?;
        Some((entry.python, crate::format::magic::word_of(entry)))
    }

    /// The spec's vectors (section 1.2), computed by CPython's own `importlib.util.source_hash`.
    #[test]
    fn source_hash_matches_the_specs_vectors() {
        let vectors = [
            (3, 7, &b""[..], "85ee0caabd83b6a7"),
            (3, 11, b"", "738d9cd5d5e87f73"),
            (3, 7, b"x=1\n", "5e9bd3d48344ffeb"),
            (3, 8, b"x=1\n", "435849b49c105023"),
            (3, 10, b"x=1\n", "a5895a49575becf9"),
            (3, 11, b"x=1\n", "f71da1d5f9e80d87"),
            (3, 13, b"x=1\n", "9f719b8a1d6be2fb"),
        ];
        for (major, minor, source, expected) in vectors {
            let release = release(major, minor);
            assert!(release.is_some(), "{major}.{minor} has a release magic");
            let (python, word) = release.unwrap_or((Python::LATEST, [0; 4]));
            assert_eq!(
                source_hash(python, word, source),
                unhex(expected),
                "{major}.{minor} {source:?}"
            );
        }
    }

    #[test]
    fn every_decode_error_kind_has_its_status() {
        let truncated = ErrorKind::Truncated { needed: 4, left: 1 };
        assert_eq!(Status::of_error(&truncated), Status::Truncated);
        assert_eq!(
            Status::of_error(&ErrorKind::PlaceholderMagic),
            Status::IncompleteWrite
        );
        assert_eq!(
            Status::of_error(&ErrorKind::UnknownMagic(7)),
            Status::UnknownMagic
        );
        for other in [
            ErrorKind::BadFlags(4),
            ErrorKind::RootNotCode,
            ErrorKind::TrailingBytes(1),
            ErrorKind::ForeignFormat,
            ErrorKind::UnknownTypeCode(b'?'),
        ] {
            assert_eq!(Status::of_error(&other), Status::Corrupt, "{other:?}");
        }
    }

    #[test]
    fn pycache_names_follow_pep_3147_and_488() {
        let name = CacheName::of(Path::new("pkg/__pycache__/m.cpython-311.opt-1.pyc"));
        assert_eq!(
            name,
            CacheName::Pycache {
                tag: "cpython-311".into(),
                optimization: Some("opt-1".into()),
                source: PathBuf::from("pkg/m.py"),
            }
        );
        let name = CacheName::of(Path::new("__pycache__/m.cpython-311.pyc"));
        assert_eq!(name.tag(), Some("cpython-311"));
        for bad in ["m.pyc", ".pyc", "m..pyc"] {
            let path = Path::new("pkg/__pycache__").join(bad);
            assert_eq!(CacheName::of(&path), CacheName::BadPycache, "{bad}");
        }
    }

    #[test]
    fn a_pycache_name_is_read_from_the_right_as_cache_from_source_writes_it() {
        // compileall writes Lib/__pycache__/__phello__.foo.cpython-310.pyc for Lib/__phello__.foo.py.
        let cases = [
            (
                "__phello__.foo.cpython-310.pyc",
                "cpython-310",
                None,
                "__phello__.foo.py",
            ),
            (
                "a.b.cpython-311.opt-2.pyc",
                "cpython-311",
                Some("opt-2"),
                "a.b.py",
            ),
            ("m.cpython-311.opt.pyc", "opt", None, "m.cpython-311.py"),
        ];
        for (file, tag, optimization, source) in cases {
            let name = CacheName::of(&Path::new("lib/__pycache__").join(file));
            assert_eq!(
                name,
                CacheName::Pycache {
                    tag: tag.into(),
                    optimization: optimization.map(Into::into),
                    source: Path::new("lib").join(source),
                },
                "{file}"
            );
        }
    }

    #[test]
    fn a_cache_under_the_pycache_prefix_names_its_source_from_the_root() {
        let prefix = Path::new("/prefix");
        let name = CacheName::in_prefix(
            Path::new("/prefix/usr/lib/a.b.cpython-311.opt-1.pyc"),
            prefix,
        );
        assert_eq!(
            name,
            Some(CacheName::Pycache {
                tag: "cpython-311".into(),
                optimization: Some("opt-1".into()),
                source: PathBuf::from("/usr/lib/a.b.py"),
            })
        );
        let untagged = CacheName::in_prefix(Path::new("/prefix/usr/m.pyc"), prefix);
        assert_eq!(untagged, Some(CacheName::BadPycache));
        // Components, not characters: `/prefixes` is not under `/prefix`.
        for outside in ["/prefixes/usr/m.cpython-311.pyc", "/usr/m.cpython-311.pyc"] {
            assert_eq!(CacheName::in_prefix(Path::new(outside), prefix), None);
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_keep_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let file = OsStr::from_bytes(b"\xff\xfe.cpython-311.pyc");
        let name = CacheName::of(&Path::new("pkg/__pycache__").join(file));
        let source = Path::new("pkg").join(OsStr::from_bytes(b"\xff\xfe.py"));
        assert_eq!(
            name,
            CacheName::Pycache {
                tag: "cpython-311".into(),
                optimization: None,
                source,
            }
        );
    }

    #[test]
    fn legacy_names_look_beside_themselves() {
        let name = CacheName::of(Path::new("pkg/m.pyc"));
        assert_eq!(
            name,
            CacheName::Legacy {
                tag: None,
                source: PathBuf::from("pkg/m.py"),
            }
        );
        let name = CacheName::of(Path::new("prefix/usr/lib/os.cpython-311.pyc"));
        assert_eq!(name.tag(), Some("cpython-311"));
        assert_eq!(CacheName::of(Path::new("setup.old.pyc")).tag(), None);
    }

    #[test]
    fn tags_agree_with_their_interpreters_magic() {
        let tag_of = |magic: u16| {
            crate::format::magic::MAGICS
                .iter()
                .find(|e| e.magic == magic)
        };
        let cases = [
            (3495, "cpython-311", true),
            (3495, "cpython-312", false),
            (3180, "cpython-32", true),
            (62211, "cpython-27", false),
            (3413, "cpython-38", true),
            (3413, "pypy38", true),
            (336, "pypy39", true),
            (336, "pypy310", false),
        ];
        for (magic, tag, agrees) in cases {
            let entry = tag_of(magic);
            assert!(entry.is_some(), "{magic} is in the table");
            if let Some(entry) = entry {
                assert_eq!(tag_agrees(entry, tag), agrees, "{magic} {tag}");
            }
        }
    }

    #[test]
    fn importlib_masks_mtimes_to_32_bits_from_3_7() {
        let big = (1i64 << 32) + 5;
        assert!(mtime_agrees(Python::cpython(3, 11), 5, big));
        assert!(!mtime_agrees(Python::cpython(3, 6), 5, big));
        assert!(mtime_agrees(Python::cpython(3, 6), 5, 5));
        assert_eq!(
            mtime_seconds(UNIX_EPOCH - std::time::Duration::from_millis(1500)),
            -1
        );
    }
}
