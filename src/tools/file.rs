//! Files as the tools read and write them, where anything may be waiting: a FIFO that would block
//! forever, a device that never ends, a sparse file of terabytes, a symbolic link planted for the tool to
//! follow, a writer truncating and rewriting the file while it is read.
//!
//! Every read opens without blocking, looks at the opened handle (not the path) to see that it is a
//! regular file and how big it is, decides from that before reading a byte, reads at most what it
//! decided, and compares the handle's metadata before and after: a file that changed while it was read
//! is read again, a few times, and then reported as changing, never handed on as if it were whole.
//! Writes go to a new file of an unpredictable name, created exclusively beside the target, and are
//! renamed over it. A removal removes only the file that was read, never one a writer put in its place
//! since ([`remove_if_same`]).

use crate::base::limits::MAX_INPUT;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};
use std::vec::Vec;

/// How many times a file that changes while it is read is read; it is reported as changing after.
pub const READ_ATTEMPTS: u32 = 3;

/// Why a file could not be read as a whole regular file.
#[derive(Debug)]
pub enum FileError {
    /// What the system said (it does not exist, no permission, a link where none is followed...).
    Io(io::Error),
    /// Not a regular file: a FIFO, a device, a socket, a directory.
    NotRegular(&'static str),
    /// Its size or times changed during every one of [`READ_ATTEMPTS`] reads: a writer is at work.
    Changing,
    /// Larger than the limit, by its metadata; nothing was read.
    TooLarge(u64),
}

impl core::fmt::Display for FileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FileError::Io(error) => write!(f, "{error}"),
            FileError::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            FileError::Changing => write!(
                f,
                "it changed while it was read, {READ_ATTEMPTS} times (a writer is at work); check it again later"
            ),
            FileError::TooLarge(size) => write!(f, "{size} bytes, more than can be read"),
        }
    }
}

impl From<io::Error> for FileError {
    fn from(error: io::Error) -> FileError {
        FileError::Io(error)
    }
}

/// What a read of a `.pyc` file gave.
#[derive(Debug)]
pub struct Contents {
    /// The bytes: the whole file, or only its first [`HEAD`] bytes when it is larger than
    /// [`MAX_INPUT`] (so that its header can still be told).
    pub data: Vec<u8>,
    /// The file's size.
    pub size: u64,
    /// Which file was read, as its handle said while the read held still: what
    /// [`remove_if_same`] compares before it removes anything.
    pub identity: Identity,
}

/// Which file a handle or a path is, and in what state: its device and inode, its size and its
/// modification time. Two looks that give the same identity saw the same file, not rewritten in
/// between (a writer that replaces a file, as importlib does, makes a new inode; one that rewrites it in
/// place changes its mtime or its size).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Device and inode; `None` where the platform does not tell them.
    node: Option<(u64, u64)>,
    size: u64,
    modified: Option<SystemTime>,
}

impl Identity {
    /// The identity that `metadata` (of a handle, or of a path not followed) describes.
    pub fn of(metadata: &Metadata) -> Identity {
        #[cfg(unix)]
        let node = {
            use std::os::unix::fs::MetadataExt;
            Some((metadata.dev(), metadata.ino()))
        };
        #[cfg(not(unix))]
        let node = None;
        Identity {
            node,
            size: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }
}

impl Contents {
    /// True when `data` is the whole file.
    pub fn is_whole(&self) -> bool {
        self.data.len() as u64 == self.size
    }
}

/// What is read of a file too large to read whole: enough for any header.
pub const HEAD: usize = 16;

/// Opens `path` for reading without blocking (a FIFO with no writer opens at once) and, unless
/// `follow` is set, without following a symbolic link at its last component; checks on the opened
/// handle that it is a regular file. Returns it with its metadata.
pub fn open_regular(path: &Path, follow: bool) -> Result<(File, Metadata), FileError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if follow {
            OFlags::empty()
        } else {
            OFlags::NOFOLLOW
        };
        // The flags are small positive constants: the cast keeps their bits.
        options.custom_flags((OFlags::NONBLOCK | nofollow).bits() as i32);
    }
    let file = options.open(path).map_err(|error| {
        #[cfg(unix)]
        {
            use rustix::io::Errno;
            // ELOOP is what a link at the last component gives under O_NOFOLLOW.
            if error.raw_os_error() == Some(Errno::LOOP.raw_os_error()) && !follow {
                return FileError::NotRegular("a symbolic link, which is not followed");
            }
            // ENXIO is what a socket gives, which no open reaches: say what it is.
            if error.raw_os_error() == Some(Errno::NXIO.raw_os_error()) {
                let metadata = if follow {
                    fs::metadata(path)
                } else {
                    fs::symlink_metadata(path)
                };
                match metadata {
                    Ok(metadata) if !metadata.is_file() => {
                        return FileError::NotRegular(kind_of(&metadata));
                    }
                    _ => {}
                }
            }
        }
        FileError::Io(error)
    })?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(FileError::NotRegular(kind_of(&metadata)));
    }
    Ok((file, metadata))
}

/// The kind of a file that is not regular, in words.
pub(crate) fn kind_of(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// What changes when a file is written: its size, modification and change times.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    changed: Option<(i64, i64)>,
}

impl Stamp {
    fn of(metadata: &Metadata) -> Stamp {
        #[cfg(unix)]
        let changed = {
            use std::os::unix::fs::MetadataExt;
            Some((metadata.ctime(), metadata.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let changed = None;
        Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            changed,
        }
    }
}

/// Runs `read` over the whole of `file` (just opened: at its start) until its metadata is the same
/// before and after and `read` took exactly the size the metadata gave; at most [`READ_ATTEMPTS`]
/// times, waiting a little longer after each. Returns what `read` made with the metadata of the
/// attempt that held still.
fn read_stable<T>(
    file: &mut File,
    mut metadata: Metadata,
    mut read: impl FnMut(&mut File, u64) -> io::Result<(T, u64)>,
) -> Result<(T, Metadata), FileError> {
    for attempt in 0..READ_ATTEMPTS {
        // A file just opened is at its start: only a second attempt seeks back to it.
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(10 << attempt));
            metadata = file.metadata()?;
            file.seek(SeekFrom::Start(0))?;
        }
        let before = Stamp::of(&metadata);
        let (value, taken) = read(file, before.len)?;
        let after = file.metadata()?;
        if before == Stamp::of(&after) && taken == before.len {
            return Ok((value, after));
        }
    }
    Err(FileError::Changing)
}

/// Reads the `.pyc` file at `path`: whole when its metadata says it has at most [`MAX_INPUT`] bytes,
/// else only its first [`HEAD`] bytes. `follow`: follow a symbolic link at `path` (see
/// [`open_regular`]).
pub fn read_pyc(path: &Path, follow: bool) -> Result<Contents, FileError> {
    let (mut file, metadata) = open_regular(path, follow)?;
    let size = metadata.len();
    if size > MAX_INPUT as u64 {
        let mut data = Vec::with_capacity(HEAD);
        (&mut file).take(HEAD as u64).read_to_end(&mut data)?;
        let identity = Identity::of(&metadata);
        return Ok(Contents {
            data,
            size,
            identity,
        });
    }
    let (data, metadata) = read_stable(&mut file, metadata, |file, size| {
        // The metadata bounds the allocation and the read. A file that grew past the limit since it
        // was opened reads no further than the limit, and so reads as changing.
        let data = read_whole(file, size.min(MAX_INPUT as u64))?;
        let taken = data.len() as u64;
        Ok((data, taken))
    })?;
    // The attempt that held still read the whole file, at the size it had then.
    let size = data.len() as u64;
    let identity = Identity::of(&metadata);
    Ok(Contents {
        data,
        size,
        identity,
    })
}

/// Reads `file` from its start, which its metadata said holds `size` bytes: to its end, or to one byte
/// past `size` (a file that grew reads one byte more, which tells it changed). Usually one system
/// call: once `size` bytes are in it does not ask again to see the end, since a file that holds more
/// than its metadata said has changed, which the metadata taken after the read tells. (std's
/// `read_to_end` reads at most 8 KiB the first time without a size hint, and asks once more for the
/// end; getting the hint costs two more calls.)
#[cfg(unix)]
fn read_whole(file: &File, size: u64) -> io::Result<Vec<u8>> {
    use rustix::buffer::spare_capacity;
    // The callers' sizes are at most MAX_INPUT, which fits in memory.
    let size = usize::try_from(size).map_err(|_| io::Error::other("file too large to read"))?;
    let mut data = Vec::with_capacity(size.saturating_add(1));
    while data.len() <= size {
        match rustix::io::read(file, spare_capacity(&mut data)) {
            Ok(0) => break,
            Ok(_) if data.len() == size => break,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(data)
}

#[cfg(not(unix))]
fn read_whole(mut file: &File, size: u64) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    file.take(size.saturating_add(1)).read_to_end(&mut data)?;
    Ok(data)
}

/// Feeds the regular file at `path` (links followed) a block at a time through `consume`, into a state
/// that `start` makes afresh for each attempt, as long as its metadata says it has at most `limit`
/// bytes; returns the state of the attempt that read the file whole. Memory stays at one block,
/// whatever the file's size.
pub fn stream<T>(
    path: &Path,
    limit: u64,
    start: impl Fn() -> T,
    mut consume: impl FnMut(&mut T, &[u8]),
) -> Result<T, FileError> {
    let (mut file, metadata) = open_regular(path, true)?;
    if metadata.len() > limit {
        return Err(FileError::TooLarge(metadata.len()));
    }
    let mut block = std::vec![0; 64 * 1024];
    let (state, _) = read_stable(&mut file, metadata, |file, size| {
        let mut state = start();
        let mut taken = 0u64;
        // One byte past the size tells a file that grew.
        let mut left = file.take(size + 1);
        loop {
            match left.read(&mut block) {
                Ok(0) => return Ok((state, taken)),
                Ok(n) => {
                    consume(&mut state, block.get(..n).unwrap_or_default());
                    taken += n as u64;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    })?;
    Ok(state)
}

/// Writes `data` to a new file of an unpredictable name created exclusively beside `path` (so no link
/// planted there is followed), gives it the permissions of the file it replaces (on the new file's
/// handle), and renames it over `path`: a reader, or a crash, never sees half a file, as importlib
/// writes caches.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".pyc-write-").suffix(".tmp");
    // A new file gets what the umask leaves of rw-rw-rw-, as any file a program creates.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut temporary = builder.tempfile_in(dir)?;
    temporary.write_all(data)?;
    // The permissions of what is replaced, taken from the path without following a link there.
    if let Ok(metadata) = fs::symlink_metadata(path) {
        if metadata.is_file() {
            temporary
                .as_file()
                .set_permissions(metadata.permissions())?;
        }
    }
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// What [`remove_if_same`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// The file was the one expected, and is gone.
    Removed,
    /// Another file, or the same one rewritten, was at the path: it is left as it was.
    Changed,
}

/// Removes the file at `path` only if it is still the file `identity` describes (the one that was read
/// and judged), so that a file a writer replaced or rewrote meanwhile is left alone. No link is followed:
/// a symbolic link at `path` is a file of its own, never the one expected.
///
/// A look at the path (`lstat`) first leaves a file that already changed untouched. Then, since a
/// writer may still replace the file between any look and an unlink, the file is taken out of the way
/// before the last look: renamed into a new directory of an unpredictable name that only this process
/// may write in, created beside it, looked at there, and removed only if it is the one expected. A file
/// that turns out to be another is put back with a hard link, which never replaces a file a writer put
/// at the path in the meantime (if one did, the one taken is older than it, and is dropped as a rename
/// over it would have dropped it); where hard links fail, with a rename. Meanwhile the path is briefly
/// empty, which importlib takes for a missing cache. Should the process die in between, the file is
/// left in the `.pyc-clean-*` directory beside the path, named `held`.
pub fn remove_if_same(path: &Path, identity: &Identity) -> io::Result<Removal> {
    if Identity::of(&fs::symlink_metadata(path)?) != *identity {
        return Ok(Removal::Changed);
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let hold = tempfile::Builder::new()
        .prefix(".pyc-clean-")
        .tempdir_in(dir)?;
    let held = hold.path().join("held");
    fs::rename(path, &held)?;
    let same = fs::symlink_metadata(&held).map(|metadata| Identity::of(&metadata) == *identity);
    if let Ok(true) = same {
        fs::remove_file(&held)?;
        hold.close()?;
        return Ok(Removal::Removed);
    }
    match fs::hard_link(&held, path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(_) => fs::rename(&held, path)?,
    }
    hold.close()?;
    same.map(|_| Removal::Changed)
}
