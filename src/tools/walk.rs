//! The walk over the paths a user gives (feature `walk`): which files `pyc check`, `pyc clean` and the
//! Python package's `check()` look at, in which order.
//!
//! Files named by the caller are taken whatever their name; directories are walked, sorted by name (so
//! runs agree), for `*.pyc` and `*.pyo` files. Symbolic links are not followed unless asked; when they
//! are, a directory reached twice (a `lib64` link to `lib`, a link back to an ancestor) is walked once.
//! Files are never merged by inode: hard links (`compileall --hardlink-dupes` makes them between
//! optimization levels) are caches of their own, judged by their own names. Anything named like a cache
//! that is not a directory or an unfollowed link is handed out, FIFOs and devices included: the checks
//! open nothing that blocks, and report what is not a regular file.

use crate::tools::file::FileError;
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::vec::{self, Vec};

/// What the walk found, in walk order.
#[derive(Debug)]
pub enum Found {
    /// A file to check; `named` when the caller named it rather than the walk finding it (a symbolic
    /// link named so is followed).
    File {
        /// The path, as given or as walked.
        path: PathBuf,
        /// True when the caller named it.
        named: bool,
    },
    /// A path that could not be looked at or walked into.
    Failed {
        /// The path.
        path: PathBuf,
        /// Why.
        error: FileError,
    },
}

/// True for the names the walk takes: `*.pyc` and `*.pyo`, a name longer than its suffix (as
/// `Path::extension` reads a walked path, without parsing the path into components for every entry of
/// every directory).
pub fn is_cache_file(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    let Some(stem) = bytes.len().checked_sub(4) else {
        return false;
    };
    let (stem, suffix) = bytes.split_at(stem);
    let named = stem
        .last()
        .is_some_and(|&byte| !std::path::is_separator(char::from(byte)));
    named && matches!(suffix, b".pyc" | b".pyo")
}

/// The walk over `paths` (see the module documentation), as an iterator.
pub struct Walk {
    paths: vec::IntoIter<PathBuf>,
    /// The directory being walked, and where it was given.
    current: Option<(walkdir::IntoIter, PathBuf)>,
    follow: bool,
    /// The directories walked (device, inode), when links are followed.
    seen: HashSet<(u64, u64)>,
}

impl Walk {
    /// The walk over `paths`, following symbolic links while walking when `follow` is set.
    pub fn new(paths: Vec<PathBuf>, follow: bool) -> Walk {
        Walk {
            paths: paths.into_iter(),
            current: None,
            follow,
            seen: HashSet::new(),
        }
    }

    /// The next file or failure of the directory being walked, if it has one left.
    fn next_in_directory(&mut self) -> Option<Found> {
        let (walker, root) = self.current.as_mut()?;
        while let Some(entry) = walker.next() {
            let entry = match entry {
                Ok(entry) => entry,
                // A link back to a directory being walked: walked already, as any directory reached
                // twice.
                Err(error) if error.loop_ancestor().is_some() => continue,
                Err(error) => {
                    let path = error.path().unwrap_or(root).to_path_buf();
                    let error = error
                        .into_io_error()
                        .unwrap_or_else(|| io::Error::other("file system loop"));
                    let error = FileError::Io(error);
                    return Some(Found::Failed { path, error });
                }
            };
            let kind = entry.file_type();
            if kind.is_dir() {
                if self.follow && !first_visit(&mut self.seen, entry.path()) {
                    walker.skip_current_dir();
                }
                continue;
            }
            if kind.is_symlink() || !is_cache_file(entry.path()) {
                continue;
            }
            let path = entry.into_path();
            return Some(Found::File { path, named: false });
        }
        self.current = None;
        None
    }
}

impl Iterator for Walk {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        loop {
            if let Some(found) = self.next_in_directory() {
                return Some(found);
            }
            let path = self.paths.next()?;
            match std::fs::metadata(&path) {
                Ok(metadata) if metadata.is_dir() => {
                    let walker = walkdir::WalkDir::new(&path)
                        .follow_links(self.follow)
                        .sort_by(by_name)
                        .into_iter();
                    self.current = Some((walker, path));
                }
                Ok(_) => return Some(Found::File { path, named: true }),
                Err(error) => {
                    let error = FileError::Io(error);
                    return Some(Found::Failed { path, error });
                }
            }
        }
    }
}

/// The walk's order within a directory: by name, byte by byte. Siblings' paths are their directory's
/// path joined to their names, so comparing whole paths compares names, without finding each path's
/// last component at every comparison (walkdir's `sort_by_file_name` does, which took more
/// instructions than the rest of the walk).
fn by_name(a: &walkdir::DirEntry, b: &walkdir::DirEntry) -> core::cmp::Ordering {
    a.path().as_os_str().cmp(b.path().as_os_str())
}

/// True the first time a directory (by device and inode) is met.
fn first_visit(seen: &mut HashSet<(u64, u64)>, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(metadata) => seen.insert((metadata.dev(), metadata.ino())),
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (seen, path);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_is_what_path_extension_calls_pyc_or_pyo() {
        let names = [
            "m.pyc",
            "m.pyo",
            "m.cpython-311.opt-1.pyc",
            ".pyc",
            ".pyo",
            "..pyc",
            "a..pyc",
            "m.PYC",
            "m.pyc.bak",
            "m.py",
            "pyc",
            "m.pyd",
            "dir/m.pyc",
            "dir/.pyc",
            "/.pyc",
            "dir.pyc/m.py",
            "a/b/..pyc",
            "ü.pyc",
            "",
            "c",
            "yc",
        ];
        for name in names {
            let path = Path::new(name);
            let expected = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pyc" | "pyo")
            );
            assert_eq!(is_cache_file(path), expected, "{name:?}");
        }
    }
}
