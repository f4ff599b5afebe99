//! `pycmarshal.Header` and `pycmarshal.Pyc`: a `.pyc` file's header, and the header with its code.

use pycmarshal::Invalidation;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A `.pyc` header: what the JSON form's `header` object says, as attributes.
#[pyclass(module = "pycmarshal", name = "Header", frozen, get_all)]
pub struct Header {
    /// The 16-bit magic number.
    magic: u16,
    /// The first four bytes as stored.
    word: Py<PyBytes>,
    /// The language version the body is read as: `"3.11"`, `"2.7"`.
    python: String,
    /// `"CPython"`, `"PyPy"`, `"GraalPy"`, `"RustPython"`, `"Dropbox"`, ...
    implementation: &'static str,
    /// The header's size in bytes: the marshal data starts there.
    size: usize,
    /// False when the magic is in no table and the caller named the version (`python=`).
    known: bool,
    /// Which releases write this magic, or `None` when it is unknown.
    note: Option<&'static str>,
    /// The PEP 552 flags (3.7 and later), else `None`.
    flags: Option<u32>,
    /// `"timestamp"`, `"checked-hash"` or `"unchecked-hash"`.
    invalidation: &'static str,
    /// The source's mtime the file was written for (timestamp pycs), else `None`.
    mtime: Option<u32>,
    /// The source's size, low 32 bits (timestamp pycs of 3.3 and later), else `None`.
    source_size: Option<u32>,
    /// The stored source hash, 8 bytes (hash-based pycs), else `None`.
    hash: Option<Py<PyBytes>>,
}

impl Header {
    /// The header of the library's parse.
    pub fn new(py: Python<'_>, header: &pycmarshal::Header) -> Header {
        let python = header.python;
        let (mtime, source_size, hash) = match header.invalidation {
            Invalidation::Timestamp { mtime, source_size } => (Some(mtime), source_size, None),
            Invalidation::CheckedHash { hash } | Invalidation::UncheckedHash { hash } => {
                (None, None, Some(PyBytes::new(py, &hash).unbind()))
            }
        };
        Header {
            magic: header.magic(),
            word: PyBytes::new(py, &header.word).unbind(),
            python: format!("{}.{}", python.major, python.minor),
            implementation: python.implementation.name(),
            size: header.size(),
            known: header.entry.is_some(),
            note: header.entry.map(|entry| entry.note),
            flags: header.flags,
            invalidation: header.invalidation.name(),
            mtime,
            source_size,
            hash,
        }
    }
}

#[pymethods]
impl Header {
    fn __repr__(&self) -> String {
        format!(
            "<pycmarshal.Header magic {} ({} {}), {}>",
            self.magic, self.implementation, self.python, self.invalidation
        )
    }
}

/// A `.pyc` file read by pycmarshal: its header and its module's code object.
#[pyclass(module = "pycmarshal", name = "Pyc", frozen, get_all)]
pub struct Pyc {
    /// The header; `None` only from a tolerant load whose header could not be read.
    header: Option<Py<Header>>,
    /// The module's `Code`; from a tolerant load, what was decoded of the top-level object (perhaps
    /// not a code object), or `None` when nothing was.
    code: Option<Py<PyAny>>,
}

impl Pyc {
    /// A `Pyc` of a header and what was built of the body.
    pub fn new(header: Option<Py<Header>>, code: Option<Py<PyAny>>) -> Pyc {
        Pyc { header, code }
    }
}

#[pymethods]
impl Pyc {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let header = match &self.header {
            Some(header) => header.bind(py).repr()?.to_string(),
            None => "no header".into(),
        };
        let code = match &self.code {
            Some(code) => code.bind(py).repr()?.to_string(),
            None => "nothing decoded".into(),
        };
        Ok(format!("<pycmarshal.Pyc {header}: {code}>"))
    }
}
