//! Real interpreters as oracles, one test each: CPython 2.7 and 3.6 to 3.13 from pyenv, and PyPy 3 from
//! `PATH`. For each one present:
//!
//! - a sample of its standard library, compiled by its own compileall in every invalidation mode and
//!   optimization level it has (and with `-U` on Python 2), parses strictly with the interpreter's magic
//!   and the right invalidation;
//! - hash-based pycs (3.7+) carry the hash `pycmarshal::tools::check::source_hash` computes of their source;
//! - random values, dumped by the interpreter at every marshal version it writes, and the compiled
//!   sample's bodies decode to what the interpreter's own `marshal.loads` describes.
//!
//! An absent interpreter is skipped with a message: a user's machine has fewer than CI's.

mod support;

use pycmarshal::tools::check::source_hash;
use pycmarshal::{CodeLayout, Invalidation};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::Interpreter;

/// Standard-library files per interpreter: enough for every kind of module, few enough that all the
/// interpreters together compile in about a minute on two cores.
const SAMPLE: usize = 100;
/// Random values per interpreter, each dumped at every marshal version.
const VALUES: &str = "400";

fn check_interpreter(name: &str) {
    let test = format!("interpreter {name}");
    let Some(python) = support::oracle_interpreter(name, &test) else {
        return;
    };
    let clock = std::time::Instant::now();
    let files = support::compiled_sample(&python, SAMPLE);
    let compiled = clock.elapsed();
    let by_variant = parse_sample(&python, &files);
    let hashes = check_hashes(&python, &files);
    let values = differential_values(&python);
    let random = clock.elapsed();
    let bodies = differential_bodies(&python, &files);
    let corpus = differential_corpus(&python);
    let variants: Vec<String> = by_variant.iter().map(|(v, n)| format!("{v} {n}")).collect();
    println!(
        "{}: stdlib files parsed strictly by variant: {}; {hashes} source hashes equal; {values}; \
         compiled bodies: {bodies}; corpus files of its layout: {corpus} (compile {compiled:.1?}, \
         random values {:.1?}, bodies and corpus {:.1?})",
        python.label(),
        variants.join(", "),
        random - compiled,
        clock.elapsed() - random,
    );
}

/// Parses every file strictly; checks its magic and invalidation mode against its variant. Returns the
/// number of files per variant.
fn parse_sample(python: &Interpreter, files: &[(String, PathBuf)]) -> BTreeMap<String, usize> {
    let mut by_variant = BTreeMap::new();
    for (variant, path) in files {
        let data = std::fs::read(path).unwrap();
        let pyc = pycmarshal::parse_pyc(&data)
            .unwrap_or_else(|e| panic!("{} {variant}: {}: {e}", python.label(), path.display()));
        // Python 2's -U writes magic + 1 (spec 1.1).
        let magic = python.magic + u16::from(variant.starts_with("unicode"));
        assert_eq!(pyc.header.magic(), magic, "{}", path.display());
        let mode = variant.rsplit_once('-').unwrap().0;
        let expected = if mode == "unicode" { "timestamp" } else { mode };
        assert_eq!(
            pyc.header.invalidation.name(),
            expected,
            "{}",
            path.display()
        );
        assert_eq!(pyc.header.python, python.python(), "{}", path.display());
        *by_variant.entry(variant.clone()).or_insert(0) += 1;
    }
    assert!(
        by_variant.values().all(|&n| n >= SAMPLE * 9 / 10),
        "{}: too few files compiled: {by_variant:?}",
        python.label()
    );
    let expected_variants = match (python.version.as_str(), python.implementation.as_str()) {
        ("2.7", _) => 4,
        ("3.6", _) => 3,
        _ => 5,
    };
    assert_eq!(by_variant.len(), expected_variants, "{by_variant:?}");
    by_variant
}

/// The source of a pyc compileall wrote: `dir/__pycache__/name.tag[.opt-N].pyc` (3.2+) or
/// `dir/name.pyc` (Python 2).
fn source_of(pyc: &Path) -> PathBuf {
    let name = pyc.file_name().unwrap().to_string_lossy().into_owned();
    let stem = name.split('.').next().unwrap();
    let dir = pyc.parent().unwrap();
    let dir = if dir.ends_with("__pycache__") {
        dir.parent().unwrap()
    } else {
        dir
    };
    dir.join(format!("{stem}.py"))
}

/// Every hash-based pyc carries the keyed hash of its source's bytes. Returns how many were checked.
fn check_hashes(python: &Interpreter, files: &[(String, PathBuf)]) -> usize {
    let mut checked = 0;
    for (_, path) in files {
        let data = std::fs::read(path).unwrap();
        let header = pycmarshal::read::header::parse(&data, None).unwrap();
        let (Invalidation::CheckedHash { hash } | Invalidation::UncheckedHash { hash }) =
            header.invalidation
        else {
            continue;
        };
        let source = std::fs::read(source_of(path)).unwrap();
        let ours = source_hash(header.python, header.word, &source);
        assert_eq!(ours, hash, "{}: {}", python.label(), path.display());
        checked += 1;
    }
    let version = python.python();
    let hash_based = (version.major, version.minor) >= (3, 7);
    assert_eq!(checked > 0, hash_based, "{}: hash pycs", python.label());
    checked
}

/// Random values dumped by the interpreter at each marshal version it writes. Returns a summary.
fn differential_values(python: &Interpreter) -> String {
    let dir = support::tempdir();
    let stdlib = support::python_output(python, "import os; print(os.path.dirname(os.__file__))");
    let stdlib = PathBuf::from(String::from_utf8(stdlib).unwrap().trim());
    // Modules every version has, for code objects of each era.
    let sources: Vec<String> = ["textwrap.py", "glob.py", "fractions.py", "ast.py"]
        .iter()
        .map(|name| stdlib.join(name))
        .filter(|path| path.exists())
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    let versions: Vec<String> = (0..=python.marshal_version)
        .map(|v| v.to_string())
        .collect();
    let versions = versions.join(",");
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let mut args = vec![
        "values",
        "--seed",
        "2027",
        "--count",
        VALUES,
        "--versions",
        &versions,
        "--out",
        &dir_arg,
        "--sources",
    ];
    args.extend(sources.iter().map(String::as_str));
    let cases = support::oracle(python, &args);
    let summary = support::differential(python, dir.path());
    format!(
        "{} random cases at marshal versions {versions}: {}",
        cases.trim(),
        summary.trim()
    )
}

/// The bodies of the compiled sample (timestamp, level 0) against the interpreter's `marshal.loads`.
fn differential_bodies(python: &Interpreter, files: &[(String, PathBuf)]) -> String {
    let dir = support::tempdir();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let paths: Vec<String> = files
        .iter()
        .filter(|(variant, _)| variant == "timestamp-0")
        .map(|(_, path)| path.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["describe", "--out", &dir_arg];
    args.extend(paths.iter().map(String::as_str));
    support::oracle(python, &args);
    support::differential(python, dir.path()).trim().to_string()
}

/// The corpus files of other versions with this interpreter's code layout and dialect, which its
/// `marshal.loads` can build (from 3.11 on, only its own version's: code objects are specialised when
/// built, and another version's bytecode has no business there). Returns the comparison's summary.
fn differential_corpus(python: &Interpreter) -> String {
    let Some(corpus) = support::corpus("interpreters (corpus part)") else {
        return "no corpus".into();
    };
    let version = python.python();
    let layout = version.code_layout();
    let dir = support::tempdir();
    let mut paths = Vec::new();
    for (_, path) in support::corpus_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let Ok(header) = pycmarshal::read::header::parse(&data, None) else {
            continue;
        };
        let (Some(entry), Ok(_)) = (header.entry, pycmarshal::parse_pyc(&data)) else {
            continue;
        };
        let same_dialect = entry.python.dialect() == version.dialect();
        let buildable = layout != CodeLayout::V3_11
            || (entry.python.major, entry.python.minor) == (version.major, version.minor);
        if entry.code == layout && same_dialect && buildable {
            let body = dir.path().join(format!("{}.bin", paths.len()));
            std::fs::write(&body, &data[header.size()..]).unwrap();
            paths.push(body.to_string_lossy().into_owned());
        }
    }
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = vec!["describe", "--out", &out_arg, "--skip", "0"];
    args.extend(paths.iter().map(String::as_str));
    support::oracle(python, &args);
    support::differential(python, &out).trim().to_string()
}

#[test]
fn cpython_2_7() {
    check_interpreter("2.7");
}

#[test]
fn cpython_3_6() {
    check_interpreter("3.6");
}

#[test]
fn cpython_3_7() {
    check_interpreter("3.7");
}

#[test]
fn cpython_3_8() {
    check_interpreter("3.8");
}

#[test]
fn cpython_3_9() {
    check_interpreter("3.9");
}

#[test]
fn cpython_3_10() {
    check_interpreter("3.10");
}

#[test]
fn cpython_3_11() {
    check_interpreter("3.11");
}

#[test]
fn cpython_3_12() {
    check_interpreter("3.12");
}

#[test]
fn cpython_3_13() {
    check_interpreter("3.13");
}

#[test]
fn pypy3() {
    check_interpreter("pypy3");
}
