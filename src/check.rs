//! Cache-tree checks: would importlib load this `.pyc`, decided offline from the file's name, its bytes
//! and its source, without running Python.
//!
//! [`Checker::check_path`] gives one file a [`Status`], in the order an importer meets the problems: the
//! header (magic known, flags valid), the body (a strict parse: one code object, nothing after it), the
//! name (the cache tag in a `__pycache__` name agrees with the magic), then the source (mtime and size,
//! or the keyed SipHash of its bytes, as importlib compares them). The first problem found decides.
//! Everything here borrows the file's bytes; nothing is decoded into a table.

use crate::dropbox;
use crate::error::{Context, Error, ErrorKind};
use crate::header::{self, Header, Invalidation};
use crate::json;
use crate::magic::{Implementation, MagicEntry, Python};
use crate::parse::Options;
use core::fmt::{self, Write as _};
use core::hash::Hasher as _;
use std::ffi::OsStr;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::{SystemTime, UNIX_EPOCH};
use std::vec::Vec;
use std::{format, fs};

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
    /// The file ends early, in the header or in the body.
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
    /// The file (or its source) could not be read.
    Unreadable,
}

impl Status {
    /// Every status, in the order summaries list them.
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::Stale,
        Status::Orphan,
        Status::Truncated,
        Status::Corrupt,
        Status::UnknownMagic,
        Status::TagMismatch,
        Status::IncompleteWrite,
        Status::Unreadable,
    ];

    /// The stable lowercase name: `ok`, `stale`, `orphan`, `truncated`, `corrupt`, `unknown-magic`,
    /// `tag-mismatch`, `incomplete-write`, `unreadable`.
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

/// The keyed hash importlib stores in hash-based pycs (`importlib.util.source_hash`): SipHash of the
/// source bytes with the magic word (`magic | 0x0D0A << 16`, as a little-endian integer) as k0 and zero
/// as k1; SipHash-1-3 from CPython 3.11, SipHash-2-4 before and in PyPy. The result is stored
/// little-endian, so this returns the bytes as they appear at offset 8 of the file.
pub fn source_hash(python: Python, word: [u8; 4], source: &[u8]) -> [u8; 8] {
    let k0 = u64::from(u32::from_le_bytes(word));
    let hash = if python.implementation == Implementation::CPython
        && (python.major, python.minor) >= (3, 11)
    {
        let mut hasher = siphasher::sip::SipHasher13::new_with_keys(k0, 0);
        hasher.write(source);
        hasher.finish()
    } else {
        let mut hasher = siphasher::sip::SipHasher24::new_with_keys(k0, 0);
        hasher.write(source);
        hasher.finish()
    };
    hash.to_le_bytes()
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
    /// PEP 3147/488: `DIR/__pycache__/NAME.TAG.pyc` or `NAME.TAG.opt-N.pyc`, for the source `DIR/NAME.py`.
    Pycache {
        /// The cache tag (`cpython-311`).
        tag: String,
        /// `opt-1`, `opt-2`, or `None` for an unoptimized file.
        optimization: Option<String>,
        /// Where the source is: `DIR/NAME.py`.
        source: PathBuf,
    },
    /// A file in `__pycache__` whose name is not `NAME.TAG[.opt-N].pyc`: importlib never loads it.
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

impl CacheName {
    /// Reads the layout from a path, as importlib's `source_from_cache` does for `__pycache__`.
    pub fn of(path: &Path) -> CacheName {
        let file_name = path
            .file_name()
            .map(OsStr::to_string_lossy)
            .unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new(""));
        let parts: Vec<&str> = file_name.split('.').collect();
        let in_pycache = dir.file_name() == Some(OsStr::new("__pycache__"));
        if in_pycache {
            let source_dir = dir.parent().unwrap_or(Path::new(""));
            return match parts.as_slice() {
                [name, tag, _ext] if !tag.is_empty() => CacheName::Pycache {
                    tag: tag.to_string(),
                    optimization: None,
                    source: source_dir.join(format!("{name}.py")),
                },
                [name, tag, opt, _ext] if !tag.is_empty() && is_opt(opt) => CacheName::Pycache {
                    tag: tag.to_string(),
                    optimization: Some(opt.to_string()),
                    source: source_dir.join(format!("{name}.py")),
                },
                _ => CacheName::BadPycache,
            };
        }
        let tagged = match parts.as_slice() {
            [name, tag, _ext] | [name, tag, _, _ext] if looks_like_tag(tag) => Some((name, tag)),
            _ => None,
        };
        match tagged {
            Some((name, tag)) => CacheName::Legacy {
                tag: Some(tag.to_string()),
                source: dir.join(format!("{name}.py")),
            },
            None => CacheName::Legacy {
                tag: None,
                source: path.with_extension("py"),
            },
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
    /// The file or its source could not be read.
    Io {
        /// The path that failed: the file or its source.
        path: PathBuf,
        /// What the system said.
        error: io::Error,
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
    pub fn unreadable(path: &Path, error: io::Error) -> Report {
        Report {
            path: path.to_path_buf(),
            bytes: 0,
            header: None,
            source: None,
            problem: Some(Problem::Io {
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
            Some(Problem::Io { .. }) => Status::Unreadable,
            Some(Problem::TagMismatch { .. }) => Status::TagMismatch,
            Some(Problem::Orphan { .. }) => Status::Orphan,
            Some(Problem::Stale(_)) => Status::Stale,
        }
    }

    /// The problem in words, without the path: what `pyc check` prints after `PATH: `.
    pub fn message(&self) -> Option<String> {
        let problem = self.problem.as_ref()?;
        let mut out = String::new();
        let _ = match problem {
            Problem::Decode(error) if self.status() == Status::Corrupt => {
                write!(out, "corrupt: {error}")
            }
            Problem::Decode(error) => write!(out, "{error}"),
            Problem::Io { path, error } if *path == self.path => {
                write!(out, "unreadable: {error}")
            }
            Problem::Io { path, error } => {
                write!(out, "unreadable: source {}: {error}", path.display())
            }
            Problem::TagMismatch { tag: None } => out.write_str(
                "tag-mismatch: in __pycache__ but not named NAME.TAG.pyc or NAME.TAG.opt-N.pyc",
            ),
            Problem::TagMismatch { tag: Some(tag) } => self.write_tag_mismatch(&mut out, tag),
            Problem::Orphan { source } => write!(out, "orphan: no source {}", source.display()),
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
                crate::dump::write_timestamp(out, *mtime);
                if !mtime_agrees(self.python(), *stored_mtime, *mtime) {
                    out.write_str(", pyc says ")?;
                    crate::dump::write_timestamp(out, i64::from(*stored_mtime));
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

    /// One JSON object (no newline): `path`, `status`, `python`, `implementation`, `magic`,
    /// `invalidation`, `source`, `message`, `error`, `bytes`; `null` where there is nothing to say.
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"path\":");
        json::write_str(out, &self.path.to_string_lossy());
        out.push_str(",\"status\":");
        json::write_str(out, self.status().name());
        match &self.header {
            Some(header) => {
                let python = header.python;
                let _ = write!(
                    out,
                    ",\"python\":\"{}.{}\",\"implementation\":\"{}\",\"magic\":{},\"invalidation\":\"{}\"",
                    python.major,
                    python.minor,
                    python.implementation.name(),
                    header.magic(),
                    header.invalidation.name()
                );
            }
            None => out.push_str(
                ",\"python\":null,\"implementation\":null,\"magic\":null,\"invalidation\":null",
            ),
        }
        out.push_str(",\"source\":");
        match &self.source {
            Some(source) => json::write_str(out, &source.to_string_lossy()),
            None => out.push_str("null"),
        }
        out.push_str(",\"message\":");
        match self.message() {
            Some(message) => json::write_str(out, &message),
            None => out.push_str("null"),
        }
        out.push_str(",\"error\":");
        match &self.problem {
            Some(Problem::Decode(error)) => json::write_error(out, error),
            Some(Problem::Io { path, error }) => write_io_error(out, path, error),
            _ => out.push_str("null"),
        }
        let _ = write!(out, ",\"bytes\":{}}}", self.bytes);
    }
}

/// Appends an I/O error in the shape of [`json::write_error`]'s objects: `{"kind":"io","offset":null,
/// "path":PATH,"message":TEXT}`, where `path` is the file that could not be read.
pub fn write_io_error(out: &mut String, path: &Path, error: &io::Error) {
    out.push_str("{\"kind\":\"io\",\"offset\":null,\"path\":");
    json::write_str(out, &path.to_string_lossy());
    out.push_str(",\"message\":");
    json::write_str(out, &error.to_string());
    out.push('}');
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

/// How files are checked.
#[derive(Copy, Clone, Debug)]
pub struct Checker {
    sources: bool,
}

impl Default for Checker {
    fn default() -> Checker {
        Checker::new()
    }
}

impl Checker {
    /// Checks everything, sources included.
    pub const fn new() -> Checker {
        Checker { sources: true }
    }

    /// With `false`, checks structure and names only: no file but the pyc is touched, and neither
    /// [`Status::Stale`] nor [`Status::Orphan`] can come out.
    pub const fn sources(mut self, compare: bool) -> Checker {
        self.sources = compare;
        self
    }

    /// Reads and checks the file at `path`. Never fails: an I/O error is [`Status::Unreadable`].
    pub fn check_path(&self, path: &Path) -> Report {
        let mut data = Vec::new();
        match read_limited(path, &mut data) {
            Ok(()) => self.check_bytes(path, &data),
            Err(error) => Report {
                path: path.to_path_buf(),
                bytes: data.len() as u64,
                header: None,
                source: None,
                problem: Some(error),
            },
        }
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
            dropbox::decrypt(data).and_then(|plain| dropbox::OPTIONS.validate_pyc(&plain))
        } else {
            Options::new().validate_pyc(data)
        };
        if let Err(error) = validated {
            report.problem = Some(Problem::Decode(error));
            return report;
        }
        let name = CacheName::of(path);
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
        let metadata = match fs::metadata(source) {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) | Err(_) if !needed => return,
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                report.problem = Some(Problem::Io {
                    path: source.clone(),
                    error,
                });
                return;
            }
            _ => {
                report.problem = Some(Problem::Orphan {
                    source: source.clone(),
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
                        report.problem = Some(Problem::Io {
                            path: source.clone(),
                            error,
                        });
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
                let bytes = match fs::read(source) {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        report.problem = Some(Problem::Io {
                            path: source.clone(),
                            error,
                        });
                        return;
                    }
                };
                let actual = source_hash(header.python, header.word, &bytes);
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

/// Reads a whole file into `data`, refusing past [`crate::MAX_INPUT`] without reading that far.
fn read_limited(path: &Path, data: &mut Vec<u8>) -> Result<(), Problem> {
    let io_problem = |error| Problem::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = fs::File::open(path).map_err(io_problem)?;
    let limit = crate::MAX_INPUT as u64;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    data.reserve(usize::try_from(size.min(limit)).unwrap_or(0));
    file.take(limit + 1).read_to_end(data).map_err(io_problem)?;
    if data.len() as u64 > limit {
        let context = Context {
            path: Vec::new(),
            what: "file size",
        };
        return Err(Problem::Decode(Error::new(
            ErrorKind::InputTooLarge,
            0,
            context,
        )));
    }
    Ok(())
}

/// Counts of a run, for the closing line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    counts: [u64; 9],
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

    /// The closing JSON object (no newline, and no `path` key, unlike the file lines):
    /// `{"counts":{"ok":N,...every status},"files":N,"bytes":N,"seconds":S}`.
    pub fn write_json(&self, out: &mut String, seconds: f64) {
        out.push_str("{\"counts\":{");
        for (i, status) in Status::ALL.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{status}\":{}", self.count(status));
        }
        let _ = write!(
            out,
            "}},\"files\":{},\"bytes\":{},\"seconds\":{seconds:.6}}}",
            self.files, self.bytes
        );
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
        let entry = crate::magic::release_of(Python::cpython(major, minor))?;
        Some((entry.python, crate::magic::word_of(entry)))
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
        for bad in ["m.pyc", "m.a.b.c.pyc", "m.cpython-311.opt.pyc"] {
            let path = Path::new("pkg/__pycache__").join(bad);
            assert_eq!(CacheName::of(&path), CacheName::BadPycache, "{bad}");
        }
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
        let tag_of = |magic: u16| crate::magic::MAGICS.iter().find(|e| e.magic == magic);
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
