//! `pycmarshal.check(paths)`: `pyc check --json`'s lines, one dict per file, as the walk finds them.

use crate::errors;
use pycmarshal::tools::check::{Checker, Report};
use pycmarshal::tools::walk::{Found, Walk};
use pyo3::prelude::*;
use std::path::PathBuf;

/// The reports on the files under some paths, one at a time (see `pycmarshal.check`).
#[pyclass(module = "pycmarshal")]
pub struct Reports {
    walk: Walk,
    /// For files the walk finds, and for files named (a link named is followed).
    walked: Checker,
    named: Checker,
    json: Py<PyAny>,
}

impl Reports {
    /// The reports `pyc check --json` prints for `paths`, checked by `checker` (its sources and depth
    /// set) with these options.
    pub fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        mut checker: Checker,
        follow: bool,
        pycache_prefix: Option<PathBuf>,
    ) -> PyResult<Reports> {
        if let Some(prefix) = &pycache_prefix {
            checker = checker
                .pycache_prefix(prefix)
                .map_err(|error| errors::file_exception(py, &error.into(), prefix))?;
        }
        let paths = match (pycache_prefix, paths.is_empty()) {
            (Some(prefix), true) => vec![prefix],
            (_, _) => paths,
        };
        Ok(Reports {
            walk: Walk::new(paths, follow),
            walked: checker.clone().follow_links(follow),
            named: checker.follow_links(true),
            json: py.import("json")?.getattr("loads")?.unbind(),
        })
    }
}

#[pymethods]
impl Reports {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        // The walk and the check touch only the file system: Python runs on meanwhile.
        let line = py.detach(|| {
            let report = match self.walk.next()? {
                Found::File { path, named: true } => self.named.check_path(&path),
                Found::File { path, .. } => self.walked.check_path(&path),
                Found::Failed { path, error } => Report::unreadable(&path, error),
            };
            let mut line = String::new();
            Some(report.write_json(&mut line).map(|()| line))
        });
        match line {
            None => Ok(None),
            Some(Ok(line)) => Ok(Some(self.json.call1(py, (line,))?)),
            Some(Err(_)) => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "a report could not be written",
            )),
        }
    }
}
