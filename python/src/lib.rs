//! The Python binding of pycmarshal: the native module `pycmarshal._pycmarshal`, which the
//! `pycmarshal` package re-exports (`python/pycmarshal/__init__.py`, with the exception classes and the
//! type stubs), and the `pyc` console script's entry.
//!
//! A layer on top of the library: it decides nothing about files or formats. Reading is
//! `tools::reading` (as `pyc dump` reads a file), checks are `tools::check` over `tools::walk` (as
//! `pyc check --json` reports them), normalizing is `write::normalize`, inference `tools::infer`, and the
//! console script runs `cli::run`. What is its own is how the objects become Python objects
//! ([`build`], [`code`]), and the exceptions ([`errors`]).
//!
//! No `unsafe` of its own: PyO3's macros generate what CPython's C API needs.

mod build;
mod code;
mod errors;
mod header;
mod reports;

use build::{Builder, Failure};
use header::{Header, Pyc};
use pycmarshal::tools::check::{Checker, parse_contents};
use pycmarshal::tools::file;
use pycmarshal::tools::infer::{infer_pyc, infer_version};
use pycmarshal::tools::reading::{How, Reading};
use pycmarshal::write::normalize::{write_marshal, write_pyc};
use pycmarshal::{Options, Python as Version};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The version a caller names (`"3.11"`, `"pypy3.9"`), or a `ValueError` that lists the known ones.
fn version(python: Option<&str>) -> PyResult<Option<Version>> {
    python
        .map(|text| text.parse::<Version>())
        .transpose()
        .map_err(|error| PyValueError::new_err(error.to_string()))
}

/// The bytes of a bytes-like object.
fn bytes_of<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    match data.cast::<PyBytes>() {
        Ok(bytes) => Ok(bytes.clone()),
        Err(_) => Ok(data
            .py()
            .get_type::<PyBytes>()
            .call1((data,))?
            .cast_into()?),
    }
}

/// Reads `data` as `loads` says, and builds what it holds.
fn load_bytes(
    py: Python<'_>,
    data: &[u8],
    python: Option<&str>,
    header: bool,
    tolerant: bool,
    filename: Option<&Path>,
) -> PyResult<Py<PyAny>> {
    let how = How {
        no_header: !header,
        python: version(python)?,
        infer: false,
    };
    let reading = Reading::new(data, how);
    let partial = py.detach(|| reading.parse());
    if let (Some(error), false) = (&partial.error, tolerant) {
        return Err(errors::exception(py, error, filename));
    }
    let mut error = partial.error.clone();
    let mut built = None;
    if let Some(root) = partial.objects.root() {
        match Builder::new(py)?.build(root) {
            Ok(object) => built = Some(object.unbind()),
            Err(Failure::Python(failure)) => return Err(failure),
            Err(Failure::Data(failure)) if !tolerant => {
                return Err(errors::exception(py, &failure, filename));
            }
            Err(Failure::Data(failure)) => error = error.or(Some(failure)),
        }
    }
    let result = match header {
        true => {
            let header = match &partial.header {
                Some(header) => Some(Py::new(py, Header::new(py, header))?),
                None => None,
            };
            Py::new(py, Pyc::new(header, built))?.into_any()
        }
        false => built.unwrap_or_else(|| py.None()),
    };
    if !tolerant {
        return Ok(result);
    }
    let error = match &error {
        Some(error) => errors::instance(py, error, filename)?.unbind(),
        None => py.None(),
    };
    Ok(PyTuple::new(py, [result, error])?.into_any().unbind())
}

/// Reads a `.pyc` file's bytes (or, with `header=False`, raw marshal data, as `marshal.dumps` writes
/// it) of any Python version.
///
/// With a header, returns a `Pyc` (`header`, `code`); without, the value. Code objects are
/// `pycmarshal.Code`, constants Python values; shared references are the same object and cycles are
/// cycles, as `marshal.loads` makes them. `python="3.11"` reads the data as that version wrote it,
/// whatever the magic says; without a header and without `python`, the version is inferred from the
/// data's structure. Dropbox's encrypted files are decrypted first.
///
/// Raises `pycmarshal.Truncated` (an `EOFError`) when the data ends early, `pycmarshal.Error` (a
/// `ValueError`) when it is otherwise not valid. With `tolerant=True`, never raises for the data:
/// returns `(result, error)`, what was decoded before the fault (containers cut short hold what was
/// read) and the error, or `None`.
#[pyfunction]
#[pyo3(signature = (data, *, python=None, header=true, tolerant=false))]
fn loads(
    data: &Bound<'_, PyAny>,
    python: Option<&str>,
    header: bool,
    tolerant: bool,
) -> PyResult<Py<PyAny>> {
    let bytes = bytes_of(data)?;
    load_bytes(data.py(), bytes.as_bytes(), python, header, tolerant, None)
}

/// Reads the file at `path` as `loads` reads bytes. The file is read safely: a FIFO or a device is
/// refused without blocking, a file a writer changes while it is read is read again (and refused if it
/// never holds still), and one of 2 GiB or more is judged by its header. Errors carry `filename`; a file
/// that cannot be read raises `OSError`.
#[pyfunction]
#[pyo3(signature = (path, *, python=None, header=true, tolerant=false))]
fn load(
    py: Python<'_>,
    path: PathBuf,
    python: Option<&str>,
    header: bool,
    tolerant: bool,
) -> PyResult<Py<PyAny>> {
    let contents = py
        .detach(|| file::read_pyc(&path, true))
        .map_err(|error| errors::file_exception(py, &error, &path))?;
    if !contents.is_whole() {
        if let Err(error) = parse_contents(&contents) {
            return Err(errors::exception(py, &error, Some(&path)));
        }
    }
    load_bytes(py, &contents.data, python, header, tolerant, Some(&path))
}

/// Checks `.pyc` files as `pyc check` does: yields one dict per file, in walk order, with exactly the
/// keys of `pyc check --json`'s lines (`path`, `status`, `python`, `implementation`, `magic`,
/// `invalidation`, `source`, `message`, `error`, `bytes`). `paths` is a path or an iterable of them:
/// directories are walked for `*.pyc` and `*.pyo` files, files named are checked whatever their name.
/// `source=False` never opens a source (nothing is stale or orphan); `deep=True` also checks every
/// code object's bytecode, line table and exception table, as `pyc check --deep` (about twice the
/// time); `follow=True` follows symbolic links while walking; `pycache_prefix` pairs the caches under
/// it with their sources as `-X pycache_prefix` lays them out (and, without paths, is what is
/// checked).
#[pyfunction]
#[pyo3(signature = (paths=None, *, source=true, deep=false, follow=false, pycache_prefix=None))]
fn check(
    py: Python<'_>,
    paths: Option<&Bound<'_, PyAny>>,
    source: bool,
    deep: bool,
    follow: bool,
    pycache_prefix: Option<PathBuf>,
) -> PyResult<reports::Reports> {
    let paths = match paths {
        None => Vec::new(),
        Some(one) if one.is_instance_of::<PyString>() || one.hasattr("__fspath__")? => {
            vec![one.extract::<PathBuf>()?]
        }
        Some(many) => many
            .try_iter()?
            .map(|path| path?.extract::<PathBuf>())
            .collect::<PyResult<_>>()?,
    };
    let checker = Checker::new().sources(source).deep(deep);
    reports::Reports::new(py, paths, checker, follow, pycache_prefix)
}

/// The bytes of a `.pyc` file (or, with `header=False`, of raw marshal data), rewritten so that they
/// depend only on the value, as `pyc normalize` writes them: equal immutable values written once and
/// referred back to, FLAG_REF exactly where a reference uses it, canonical type codes and set order.
/// The header is kept. Python 3.4 and later. Raises `pycmarshal.Error` for data that does not parse
/// strictly, or cannot be normalized (`unsupported`).
#[pyfunction]
#[pyo3(signature = (data, *, header=true, python=None))]
fn normalize<'py>(
    data: &Bound<'py, PyAny>,
    header: bool,
    python: Option<&str>,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = data.py();
    let bytes = bytes_of(data)?;
    let mut options = Options::new();
    if let Some(python) = version(python)? {
        options = options.python(python);
    }
    let input = bytes.as_bytes();
    let written = py.detach(|| {
        let mut out = Vec::new();
        match header {
            true => options
                .parse_pyc(input)
                .and_then(|pyc| write_pyc(&mut out, &pyc)),
            false => options
                .parse_marshal(input)
                .and_then(|objects| write_marshal(&mut out, &objects)),
        }
        .map(|()| out)
    });
    match written {
        Ok(out) => Ok(PyBytes::new(py, &out)),
        Err(error) => Err(errors::exception(py, &error, None)),
    }
}

/// The ways of reading code objects that decode `data` strictly, most plausible first, for data whose
/// header is missing or wrong: a list of dicts with `python` (the first version that writes code
/// objects so, `"3.11"`), `implementation`, `versions` (all of them, in words), `layout`, `start` (where
/// the marshal data starts: the header size skipped), `problems` (implausible fields found) and `codes`
/// (code objects looked at). With `header=True` (a whole file) the header size is found too; with
/// `header=False` the data is raw marshal data. Empty when no reading decodes it.
#[pyfunction]
#[pyo3(signature = (data, *, header=true))]
fn infer<'py>(data: &Bound<'py, PyAny>, header: bool) -> PyResult<Bound<'py, PyList>> {
    let py = data.py();
    let bytes = bytes_of(data)?;
    let input = bytes.as_bytes();
    let (start, candidates) = py.detach(|| match header {
        true => infer_pyc(input).unwrap_or((0, Vec::new())),
        false => (0, infer_version(input)),
    });
    let list = PyList::empty(py);
    for candidate in &candidates {
        let reading = candidate.reading;
        let python = reading.python();
        let item = PyDict::new(py);
        item.set_item("python", format!("{}.{}", python.major, python.minor))?;
        item.set_item("implementation", python.implementation.name())?;
        item.set_item("versions", reading.versions())?;
        item.set_item("layout", format!("{:?}", reading.layout))?;
        item.set_item("start", start)?;
        item.set_item("problems", candidate.problems)?;
        item.set_item("codes", candidate.codes)?;
        list.append(item)?;
    }
    Ok(list)
}

/// Runs the `pyc` command with `args` (the program's name first, as `sys.argv`) and returns its exit
/// status. The console script `pyc` calls it.
#[pyfunction]
fn run_cli(py: Python<'_>, args: Vec<OsString>) -> PyResult<u8> {
    // The command prints and walks for as long as it takes; other Python threads run meanwhile.
    Ok(py.detach(|| pycmarshal::cli::run(args)))
}

/// The native part of the `pycmarshal` package.
#[pymodule]
fn _pycmarshal(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(load, module)?)?;
    module.add_function(wrap_pyfunction!(loads, module)?)?;
    module.add_function(wrap_pyfunction!(check, module)?)?;
    module.add_function(wrap_pyfunction!(normalize, module)?)?;
    module.add_function(wrap_pyfunction!(infer, module)?)?;
    module.add_function(wrap_pyfunction!(run_cli, module)?)?;
    module.add_class::<code::Code>()?;
    module.add_class::<Header>()?;
    module.add_class::<Pyc>()?;
    module.add_class::<reports::Reports>()?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
