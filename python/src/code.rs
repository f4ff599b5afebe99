//! `pycmarshal.Code`: a code object of any version, with the `co_*` attributes that version's Python
//! has.
//!
//! The attributes are the fields the file marshals, named as the library's layouts name them (that
//! version's attribute names; the implementation's own names for fields Python does not show, such as
//! GraalPy's `startLine`), and, from 3.11, those CPython derives from `co_localsplusnames` and
//! `co_localspluskinds`: `co_varnames`, `co_cellvars`, `co_freevars` and `co_nlocals`.
//!
//! A Rust class that the garbage collector does not track, as CPython's code objects are not: a
//! stdlib's worth of code objects tracked would make every collection walk them (loading with the
//! results kept was 2.5 times slower so), and marshal data cannot make a cycle through a code object
//! that CPython's own collector could break either. Attributes are looked up by the interned name
//! first (Python interns attribute names written in source), so reading them costs about what a
//! Python attribute does.

use pycmarshal::CodeLayout;
use pycmarshal::format::layout::{CO_FAST_CELL, CO_FAST_FREE, CO_FAST_LOCAL};
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::collections::HashMap;

/// A code object read by pycmarshal, of any Python version.
///
/// Its attributes are the `co_*` attributes that version's Python has (`co_argcount`, `co_code`,
/// `co_consts`, ... `co_lnotab` before 3.10, `co_linetable` after; from 3.11 `co_varnames`,
/// `co_cellvars`, `co_freevars` and `co_nlocals`, derived from `co_localsplusnames` and
/// `co_localspluskinds` as CPython derives them), with the values the file stores; other
/// implementations' own fields go by their own names (GraalPy's `startLine`). `fields` gives the
/// marshalled fields in stream order; `layout` names the layout they were read with (`"V3_11"`,
/// `"V2_3"`, `"GraalPy"`, ...); `complete` is false for a code object a fault cut short (a tolerant
/// load), which has only the fields read before it.
#[pyclass(module = "pycmarshal", name = "Code", frozen)]
pub struct Code {
    /// Every attribute by its interned name: the marshalled fields in stream order, then those
    /// derived from them.
    attributes: Vec<(Py<PyString>, Py<PyAny>)>,
    /// How many of the attributes are marshalled fields.
    fields: usize,
    layout: Py<PyString>,
    complete: bool,
}

/// Makes `Code` objects, with the strings they share made once.
#[derive(Default)]
pub struct Maker {
    /// By layout: its name, and its fields' names, interned, in stream order.
    layouts: HashMap<CodeLayout, (Py<PyString>, Vec<Py<PyString>>)>,
}

impl Maker {
    /// A derived attribute's name, interned.
    fn name(py: Python<'_>, name: &'static str) -> Py<PyString> {
        PyString::intern(py, name).unbind()
    }

    /// The `Code` of a code object of the library, from its fields built as Python objects.
    pub fn make<'py>(
        &mut self,
        py: Python<'py>,
        code: pycmarshal::Code<'_, '_>,
        fields: impl ExactSizeIterator<Item = (&'static str, Bound<'py, PyAny>)>,
    ) -> PyResult<Bound<'py, Code>> {
        let layout = code.layout();
        let (layout_name, names) = self.layouts.entry(layout).or_insert_with(|| {
            let names = layout.fields().iter().map(|f| Maker::name(py, f.name));
            let name = PyString::new(py, &format!("{layout:?}")).unbind();
            (name, names.collect())
        });
        let layout_name = layout_name.clone_ref(py);
        let mut attributes = Vec::with_capacity(fields.len() + 4);
        let mut localsplusnames = None;
        // The fields come in the layout's order, so its names are theirs.
        for ((name, value), interned) in fields.zip(names.iter()) {
            if name == "co_localsplusnames" {
                localsplusnames = Some(value.clone());
            }
            attributes.push((interned.clone_ref(py), value.unbind()));
        }
        let marshalled = attributes.len();
        if let Some(all) = localsplusnames {
            let derived = [
                ("co_varnames", CO_FAST_LOCAL),
                ("co_cellvars", CO_FAST_CELL),
                ("co_freevars", CO_FAST_FREE),
            ];
            for (attribute, kind) in derived {
                let Some(positions) = code.localsplus(kind) else {
                    break;
                };
                let chosen = positions
                    .map(|i| all.get_item(i))
                    .collect::<PyResult<Vec<_>>>()?;
                if attribute == "co_varnames" {
                    let count = chosen.len().into_pyobject(py)?.into_any().unbind();
                    attributes.push((Maker::name(py, "co_nlocals"), count));
                }
                let names = PyTuple::new(py, chosen)?.into_any().unbind();
                attributes.push((Maker::name(py, attribute), names));
            }
        }
        let code = Code {
            attributes,
            fields: marshalled,
            layout: layout_name,
            complete: code.is_complete(),
        };
        Bound::new(py, code)
    }
}

impl Code {
    fn find(&self, name: &Bound<'_, PyString>) -> PyResult<Option<&Py<PyAny>>> {
        // The interned name of source code first, then any string equal to one.
        if let Some((_, value)) = self.attributes.iter().find(|(n, _)| n.is(name)) {
            return Ok(Some(value));
        }
        for (attribute, value) in &self.attributes {
            if attribute.bind(name.py()).as_any().eq(name)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

#[pymethods]
impl Code {
    fn __getattribute__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if let Some(value) = slf.get().find(name)? {
            return Ok(value.clone_ref(py));
        }
        // Everything else (`fields`, `layout`, `__class__`, ...) as any object finds it.
        let object = py.import("builtins")?.getattr("object")?;
        match object.call_method1("__getattribute__", (slf, name)) {
            Ok(value) => Ok(value.unbind()),
            Err(error) if error.is_instance_of::<PyAttributeError>(py) => {
                Err(PyAttributeError::new_err(format!(
                    "this code object ({} layout) has no attribute {name}",
                    slf.get().layout.bind(py)
                )))
            }
            Err(error) => Err(error),
        }
    }

    fn __dir__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut names: Vec<String> = self
            .attributes
            .iter()
            .map(|(name, _)| name.bind(py).to_string())
            .collect();
        names.extend(["complete", "fields", "layout"].map(String::from));
        names.sort_unstable();
        PyList::new(py, names)
    }

    /// The marshalled fields, in stream order: a new dict of attribute name to value.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.attributes.iter().take(self.fields) {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }

    /// The library's name for the field layout it was read with (`V3_11`, `V2_3`, `GraalPy`, ...).
    #[getter]
    fn layout(&self, py: Python<'_>) -> Py<PyString> {
        self.layout.clone_ref(py)
    }

    /// False when a fault cut it short (a tolerant load): then only the fields read are there.
    #[getter]
    fn complete(&self) -> bool {
        self.complete
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let text = |name: &str| -> PyResult<Option<String>> {
            let Some(value) = slf.get().find(&PyString::new(py, name))? else {
                return Ok(None);
            };
            let value = value.bind(py);
            Ok(Some(match value.cast::<pyo3::types::PyBytes>() {
                Ok(bytes) => String::from_utf8_lossy(bytes.as_bytes()).into_owned(),
                Err(_) => value.str()?.to_string(),
            }))
        };
        let name = text("co_name")?.unwrap_or_else(|| "?".into());
        let file = text("co_filename")?.unwrap_or_else(|| "?".into());
        Ok(match text("co_firstlineno")? {
            Some(line) => format!("<pycmarshal.Code {name}, file {file:?}, line {line}>"),
            None => format!("<pycmarshal.Code {name}, file {file:?}>"),
        })
    }
}
