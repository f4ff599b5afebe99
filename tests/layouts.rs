//! Magics whose code-object layout the sources disagree on are read every way they list
//! (`magic::ALTERNATIVES`): the table's layout first, the others where it does not decode the file. The
//! corpus has no file with these magics, so real files of the neighbouring versions are given them.

mod support;

use pycmarshal::{CodeLayout, Python};
use std::path::PathBuf;

/// The first corpus file whose magic is `magic`.
fn corpus_file(magic: u16) -> Option<Vec<u8>> {
    let corpus = support::corpus("layouts")?;
    support::corpus_files(&corpus)
        .into_iter()
        .map(|(_, path): (String, PathBuf)| std::fs::read(path).unwrap())
        .find(|data| data.len() > 16 && u16::from_le_bytes([data[0], data[1]]) == magic)
}

/// `data` with its magic replaced (bytes 2-3 stay CR LF).
fn with_magic(mut data: Vec<u8>, magic: u16) -> Vec<u8> {
    data[..2].copy_from_slice(&magic.to_le_bytes());
    data
}

/// The layout and dialect a file was read with.
fn read_as(data: &[u8]) -> (CodeLayout, Python) {
    let pyc = pycmarshal::parse_pyc(data).unwrap_or_else(|e| panic!("{e}"));
    (pyc.code().unwrap().layout(), pyc.objects.python())
}

/// CPython's table says PEP 570 added `co_posonlyargcount` at 3410; xdis reads 3410 and 3411 without
/// it. Both kinds of file are read.
#[test]
fn magics_3410_and_3411_are_read_with_or_without_posonlyargcount() {
    let (Some(with), Some(without)) = (corpus_file(3413), corpus_file(3401)) else {
        return;
    };
    let python = Python::cpython(3, 8);
    for magic in [3410, 3411] {
        let data = with_magic(with.clone(), magic);
        assert_eq!(read_as(&data), (CodeLayout::V3_8, python), "{magic} with");
        let data = with_magic(without.clone(), magic);
        assert_eq!(
            read_as(&data),
            (CodeLayout::V3_0, python),
            "{magic} without"
        );
    }
}

/// The table's reading wins wherever it decodes the file: a 3.8 file is never read as 3.0's layout.
#[test]
fn the_tables_reading_comes_first() {
    let Some(data) = corpus_file(3413) else {
        return;
    };
    let data = with_magic(data, 3410);
    let entry = pycmarshal::parse_pyc(&data).unwrap().header.entry.unwrap();
    assert_eq!(entry.code, CodeLayout::V3_8);
    assert_eq!(
        entry.alternatives(),
        &[(Python::cpython(3, 8), CodeLayout::V3_0)]
    );
    assert_eq!(read_as(&data).0, CodeLayout::V3_8);
}

/// py3k development magics before 3091 wrote names as byte strings and interned them into a Python 2
/// style table; before 3030 code objects had no keyword-only count. A 2.7 body under magic 3000 is read
/// with 2.x's fields in 2.x's dialect; a 3.0 body under 3010 with 3.0's fields; under 3050 with 3.0's
/// fields in 3.0's own dialect, which the table gives.
#[test]
fn py3k_development_magics_are_read_as_their_neighbours() {
    let (Some(py27), Some(py30)) = (corpus_file(62211), corpus_file(3131)) else {
        return;
    };
    let (py2, py3) = (Python::cpython(2, 7), Python::cpython(3, 0));
    assert_eq!(
        read_as(&with_magic(py27.clone(), 3000)),
        (CodeLayout::V2_3, py2)
    );
    assert_eq!(
        read_as(&with_magic(py30.clone(), 3010)),
        (CodeLayout::V3_0, py3)
    );
    assert_eq!(read_as(&with_magic(py30, 3050)), (CodeLayout::V3_0, py3));
    // A file cut short is truncated under the reading that reads furthest, not misread under another.
    let cut = with_magic(py27, 3000);
    let error = pycmarshal::parse_pyc(&cut[..cut.len() - 1]).unwrap_err();
    assert!(error.is_truncated(), "{error}");
}

/// From 3.11, code objects marshal one tuple of local, cell and free variable names with a kind byte
/// each; `Code::localsplus` says where the names of a kind are, from which CPython derives `co_varnames`,
/// `co_cellvars` and `co_freevars`. python3's own code objects are the oracle, an argument that is
/// also a cell included.
#[test]
fn locals_cells_and_free_variables_are_the_localsplus_names_of_their_kind() {
    use pycmarshal::format::layout::{CO_FAST_CELL, CO_FAST_FREE, CO_FAST_LOCAL};
    let python = support::python3();
    if python.python().code_layout() != CodeLayout::V3_11 {
        eprintln!(
            "SKIPPED localsplus: python3 is {} (before 3.11)",
            python.version
        );
        return;
    }
    let script = "import json, marshal, sys
source = '''
def outer(a, b, *args, c, **kw):
    d = 1
    def inner(e):
        nonlocal d
        return a, d, e
    return inner
'''
code = compile(source, 'm.py', 'exec')
outer = code.co_consts[0]
inner = [c for c in outer.co_consts if hasattr(c, 'co_code')][0]
facts = [[list(c.co_varnames), list(c.co_cellvars), list(c.co_freevars), c.co_nlocals] for c in (outer, inner)]
sys.stdout.write(json.dumps({'data': marshal.dumps(code).hex(), 'facts': facts}))";
    let out = support::python_output(&python, script);
    let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let data = support::unhex(out["data"].as_str().unwrap());
    let objects = pycmarshal::Options::new()
        .python(python.python())
        .parse_marshal(&data)
        .unwrap();
    let module = objects.root().unwrap().as_code().unwrap();
    let outer = module.nested().next().unwrap();
    let inner = outer.nested().next().unwrap();
    for (code, facts) in [outer, inner].iter().zip(out["facts"].as_array().unwrap()) {
        let names = |kind| -> Vec<String> {
            let all = code.localsplusnames().unwrap();
            let positions = code.localsplus(kind).unwrap();
            positions
                .map(|i| all.get(i).unwrap().text().unwrap().into_owned())
                .collect()
        };
        let expected = |i: usize| -> Vec<String> {
            let names = facts[i].as_array().unwrap();
            names
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(CO_FAST_LOCAL), expected(0), "co_varnames");
        assert_eq!(names(CO_FAST_CELL), expected(1), "co_cellvars");
        assert_eq!(names(CO_FAST_FREE), expected(2), "co_freevars");
        assert_eq!(names(CO_FAST_LOCAL).len() as u64, facts[3], "co_nlocals");
    }
}
