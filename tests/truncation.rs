//! The truncation property: a valid file cut at any byte reports `truncated`, and nothing else.
//!
//! Every prefix of each file under 64 KiB is checked (at least 1 000 evenly spread cut points of larger
//! ones) by the validating parse; the strict and tolerant parses, which run the same decoder, must agree
//! with it on every 16th cut and on each of the last 64.

mod support;

use pycmarshal::{Options, Pyc};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Cut points of a file of `len` bytes: all of them under 64 KiB, else 1 000 and some.
fn cut_points(len: usize) -> Vec<usize> {
    if len < 64 * 1024 {
        (0..len).collect()
    } else {
        let step = len / 1000;
        let mut cuts: Vec<usize> = (0..len).step_by(step).collect();
        cuts.extend((len - 64)..len); // the very end matters most
        cuts.sort_unstable();
        cuts.dedup();
        cuts
    }
}

/// Checks every cut of every file on all cores; returns the number of prefixes checked per file.
fn check_prefixes(files: &[(String, PathBuf)]) -> Vec<usize> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<&[(String, PathBuf)]> = files.chunks(files.len().div_ceil(threads)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(_, path)| check_file(path))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn check_file(path: &PathBuf) -> usize {
    let data = std::fs::read(path).unwrap();
    let whole: Pyc = pycmarshal::parse_pyc(&data)
        .unwrap_or_else(|e| panic!("{}: the whole file must parse: {e}", path.display()));
    let python = whole.header.python;
    let options = Options::new();
    let cuts = cut_points(data.len());
    for (i, &cut) in cuts.iter().enumerate() {
        let prefix = &data[..cut];
        let error = match options.validate_pyc(prefix) {
            Ok(_) => panic!("{}: a cut at {cut} parsed", path.display()),
            Err(error) => error,
        };
        assert!(
            error.is_truncated(),
            "{} ({python}) cut at {cut} of {}: {error}",
            path.display(),
            data.len()
        );
        assert!(error.offset() <= cut as u64);
        if i % 16 == 0 || cut + 64 >= data.len() {
            assert_eq!(pycmarshal::parse_pyc(prefix).err().as_ref(), Some(&error));
            // The tolerant parse keeps what came before: its error is the strict one.
            let partial = options.parse_pyc_tolerant(prefix);
            assert_eq!(partial.error.as_ref(), Some(&error));
        }
    }
    cuts.len()
}

#[test]
fn every_prefix_of_real_files_is_truncated() {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Some(corpus) = support::corpus("every_prefix_of_real_files_is_truncated (corpus part)") {
        // Every file of every version that parses (the GraalPy, RustPython and Dropbox payloads are
        // another reader's).
        files.extend(
            support::corpus_files(&corpus)
                .into_iter()
                .filter(|(_, path)| {
                    let data = std::fs::read(path).unwrap();
                    pycmarshal::parse_pyc(&data).is_ok()
                }),
        );
        assert!(
            files.len() >= 500,
            "only {} corpus files parse",
            files.len()
        );
    }
    // The standard library: every 16th file by name under 16 KiB (a spread of kinds of modules), and
    // the ten largest (through their cut points).
    let python = support::python3();
    let mut all: Vec<(u64, PathBuf)> = support::compiled_stdlib(&python, "timestamp")
        .into_iter()
        .map(|path| (path.metadata().unwrap().len(), path))
        .collect();
    let mut stdlib: Vec<PathBuf> = all
        .iter()
        .step_by(16)
        .filter(|(len, _)| *len < 16 * 1024)
        .map(|(_, path)| path.clone())
        .collect();
    all.sort();
    stdlib.extend(all.iter().rev().take(10).map(|(_, path)| path.clone()));
    let label = format!("{} stdlib", python.label());
    assert!(stdlib.len() >= 100, "only {} stdlib files", stdlib.len());
    files.extend(stdlib.into_iter().map(|path| (label.clone(), path)));
    let prefixes = check_prefixes(&files);
    let mut by_label: BTreeMap<_, (String, usize, usize)> = BTreeMap::new();
    for ((label, _), n) in files.iter().zip(&prefixes) {
        let row = by_label
            .entry(support::version_order(label))
            .or_insert_with(|| (label.clone(), 0, 0));
        row.1 += 1;
        row.2 += n;
    }
    let mut rows = vec![["files of", "files", "prefixes, all truncated"].map(String::from)];
    for (label, count, cuts) in by_label.values() {
        rows.push([label.clone(), count.to_string(), cuts.to_string()]);
    }
    let total: usize = prefixes.iter().sum();
    rows.push(["total".into(), files.len().to_string(), total.to_string()]);
    println!("{}", support::markdown_table(&rows));
}

/// A cut code object lists exactly the fields read before the cut: the slots the table reserves for
/// the others when it opens never show (no NULL object field, no integer field of 0 that Python did not
/// write), checked against the values python3 itself gives every code object's attributes.
#[test]
fn a_cut_code_object_keeps_only_the_fields_read() {
    let python = support::python3();
    let script = r#"
import importlib._bootstrap_external as bx, json, sys
source = "import os\ndef f(a, b=2, *c, d, **e):\n    def g(x):\n        return x + a\n    return g\nclass K:\n    y = 3\n"
code = compile(source, "m.py", "exec")
ints = {}
def walk(c):
    ints[c.co_name] = {n: getattr(c, n) for n in dir(c) if n.startswith("co_") and isinstance(getattr(c, n), int)}
    for k in c.co_consts:
        if hasattr(k, "co_code"):
            walk(k)
walk(code)
print(json.dumps({"pyc": bytes(bx._code_to_timestamp_pyc(code, 0, 0)).hex(), "ints": ints}))
"#;
    let out: serde_json::Value =
        serde_json::from_slice(&support::python_output(&python, script)).unwrap();
    let hex = out["pyc"].as_str().unwrap();
    let data: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let expected = &out["ints"];
    let (mut codes_seen, mut ints_checked) = (0, 0);
    for cut in 17..data.len() {
        let partial = Options::new().parse_pyc_tolerant(&data[..cut]);
        assert!(
            partial.error.as_ref().is_some_and(|e| e.is_truncated()),
            "cut at {cut}"
        );
        let mut stack: Vec<_> = partial.objects.root().into_iter().collect();
        while let Some(object) = stack.pop() {
            let Some(code) = object.resolve().as_code() else {
                stack.extend(
                    object
                        .resolve()
                        .items()
                        .into_iter()
                        .flat_map(|items| items.iter()),
                );
                continue;
            };
            codes_seen += 1;
            let name = code.name();
            for (field, value) in code.fields() {
                match value {
                    pycmarshal::object::FieldValue::Int(value) => {
                        // Python's attribute: compared once the name says which code object it is.
                        if let Some(name) = &name {
                            if let Some(want) = expected[&name[..]][field.name].as_i64() {
                                assert_eq!(
                                    i64::from(value),
                                    want,
                                    "cut at {cut}: {name}.{}",
                                    field.name
                                );
                                ints_checked += 1;
                            }
                        }
                    }
                    pycmarshal::object::FieldValue::Object(object) => {
                        assert_ne!(
                            object.type_code(),
                            b'0',
                            "cut at {cut}: {} is a NULL",
                            field.name
                        );
                        stack.push(object);
                    }
                }
            }
        }
    }
    println!(
        "{} cuts of a {}-byte pyc: {codes_seen} code objects, {ints_checked} integer fields equal to python3's",
        data.len() - 17,
        data.len()
    );
    assert!(
        ints_checked > 1000,
        "too few integer fields compared: {ints_checked}"
    );
}
