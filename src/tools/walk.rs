//! The walk over the paths a user gives (feature `walk`): which files `pyc check`, `pyc clean` and the
//! Python package's `check()` look at, in which order.
//!
//! Files named by the caller are taken whatever their name; directories are walked, sorted by name (so
//! runs agree), for `*.pyc` and `*.pyo` files. Symbolic links are not followed unless asked; when they
//! are, a file reached twice (a `lib64` link to `lib`) is handed out once. Anything named like a cache
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

/// True for the names the walk takes: `*.pyc` and `*.pyo`.
pub fn is_cache_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pyc" | "pyo")
    )
}

/// The walk over `paths` (see the module documentation), as an iterator.
pub struct Walk {
    paths: vec::IntoIter<PathBuf>,
    /// The directory being walked, and where it was given.
    current: Option<(walkdir::IntoIter, PathBuf)>,
    follow: bool,
    /// The files met (device, inode), when links are followed.
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
        for entry in walker.by_ref() {
            let entry = match entry {
                Ok(entry) => entry,
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
            if kind.is_dir() || kind.is_symlink() || !is_cache_file(entry.path()) {
                continue;
            }
            if self.follow && !first_visit(&mut self.seen, entry.path()) {
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

/// True the first time a file (by device and inode) is met.
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
