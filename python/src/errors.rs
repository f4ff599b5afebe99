//! The library's errors as Python exceptions: `pycmarshal.Error` (a `ValueError`) with `kind`, `offset`,
//! `path` and `message`, and `pycmarshal.Truncated` (also an `EOFError`, as CPython's marshal raises for
//! a cut file) for `truncated`. The classes are defined in Python (`pycmarshal/__init__.py`: a class
//! with two bases cannot be made from Rust without unsafe code) and looked up here when raised.
//! Files that cannot be read are `OSError`s, as Python's own `open` raises them.

use pycmarshal::tools::file::FileError;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;

/// The exception for `error`, from reading the file `filename` if there was one.
pub fn exception(py: Python<'_>, error: &pycmarshal::Error, filename: Option<&Path>) -> PyErr {
    match instance(py, error, filename) {
        Ok(exception) => PyErr::from_value(exception),
        Err(failure) => failure,
    }
}

/// The `pycmarshal.Error` (or `Truncated`) instance for `error`.
pub fn instance<'py>(
    py: Python<'py>,
    error: &pycmarshal::Error,
    filename: Option<&Path>,
) -> PyResult<Bound<'py, PyAny>> {
    let class = match error.is_truncated() {
        true => "Truncated",
        false => "Error",
    };
    let class = py.import("pycmarshal")?.getattr(class)?;
    let fields = PyDict::new(py);
    fields.set_item("kind", error.kind().name())?;
    fields.set_item("offset", error.offset())?;
    fields.set_item("path", error.context().to_string())?;
    fields.set_item("filename", filename.map(Path::as_os_str))?;
    class.call((error.to_string(),), Some(&fields))
}

/// The `OSError` for a file that could not be read whole: with the system's error number and message
/// where there are some (so that Python picks `FileNotFoundError`, `PermissionError`, ...), and the
/// file's name.
pub fn file_exception(py: Python<'_>, error: &FileError, filename: &Path) -> PyErr {
    let filename = filename.as_os_str().to_os_string();
    if let FileError::Io(io) = error {
        if let Some(errno) = io.raw_os_error() {
            let strerror = py
                .import("os")
                .and_then(|os| os.call_method1("strerror", (errno,)))
                .and_then(|text| text.extract::<String>());
            match strerror {
                Ok(strerror) => return PyOSError::new_err((errno, strerror, filename)),
                Err(failure) => return failure,
            }
        }
    }
    // No error number, so the message names the file (with `filename` set, `OSError` would print
    // `[Errno None]` before it; with two arguments, the message as the error number).
    PyOSError::new_err(format!("{}: {error}", filename.to_string_lossy()))
}
