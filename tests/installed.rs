//! `pyc check` on each interpreter's own standard library, as installed: every cache its installer
//! compiled is ok. One test per pyenv interpreter (CPython 2.7 and 3.6 to 3.13); an absent one is skipped
//! with a message.
//!
//! The standard library is the folder `sysconfig` names, without `site-packages` (what was installed
//! into it later is not the interpreter's own). 3.6-3.10 ship `__phello__.foo.py`, whose caches
//! (`__pycache__/__phello__.foo.cpython-310.pyc`) have a dot in their module name: they are paired with
//! that source, as `cache_from_source` names them (see `tools::check::CacheName`).

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn installed_stdlib_checks_ok(name: &str) {
    let test = format!("installed stdlib of {name}");
    let Some(python) = support::oracle_interpreter(name, &test) else {
        return;
    };
    let script = "import sysconfig; print(sysconfig.get_paths()['stdlib'])";
    let stdlib = support::python_output(&python, script);
    let stdlib = PathBuf::from(String::from_utf8(stdlib).unwrap().trim());
    let paths: Vec<PathBuf> = support::read_dir_sorted(&stdlib)
        .into_iter()
        .filter(|path| match path.is_dir() {
            true => !path.ends_with("site-packages"),
            // Named files are checked whatever their name: only the caches among them.
            false => path.extension().is_some_and(|e| e == "pyc" || e == "pyo"),
        })
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(["check", "--json"])
        .args(&paths)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary = lines.pop().unwrap();
    let problems: Vec<&str> = lines
        .iter()
        .filter(|line| line["status"] != "ok")
        .map(|line| line["message"].as_str().unwrap_or_default())
        .collect();
    assert!(problems.is_empty(), "{}: {problems:#?}", python.label());
    assert_eq!(output.status.code(), Some(0), "{}", python.label());
    let files = summary["files"].as_u64().unwrap();
    assert!(files > 1000, "{}: only {files} files", python.label());
    let mut by_layout: BTreeMap<&str, u64> = BTreeMap::new();
    let mut dotted_names = 0;
    for line in &lines {
        let path = Path::new(line["path"].as_str().unwrap());
        let layout = match path.parent().and_then(Path::file_name) {
            Some(dir) if dir == "__pycache__" => "__pycache__",
            _ => "legacy",
        };
        *by_layout.entry(layout).or_default() += 1;
        let dotted = path
            .file_name()
            .is_some_and(|f| f.to_string_lossy().starts_with("__phello__.foo."));
        if dotted && layout == "__pycache__" {
            let source = stdlib.join("__phello__.foo.py");
            assert_eq!(
                line["source"],
                source.to_str().unwrap(),
                "{}",
                path.display()
            );
            dotted_names += 1;
        }
    }
    let ships_phello_foo = ["3.6", "3.7", "3.8", "3.9", "3.10"].contains(&name);
    assert_eq!(dotted_names > 0, ships_phello_foo, "{}", python.label());
    println!(
        "{}: {files} installed caches ok ({by_layout:?}; {dotted_names} named __phello__.foo.TAG)",
        python.label()
    );
}

#[test]
fn cpython_2_7() {
    installed_stdlib_checks_ok("2.7");
}

#[test]
fn cpython_3_6() {
    installed_stdlib_checks_ok("3.6");
}

#[test]
fn cpython_3_7() {
    installed_stdlib_checks_ok("3.7");
}

#[test]
fn cpython_3_8() {
    installed_stdlib_checks_ok("3.8");
}

#[test]
fn cpython_3_9() {
    installed_stdlib_checks_ok("3.9");
}

#[test]
fn cpython_3_10() {
    installed_stdlib_checks_ok("3.10");
}

#[test]
fn cpython_3_11() {
    installed_stdlib_checks_ok("3.11");
}

#[test]
fn cpython_3_12() {
    installed_stdlib_checks_ok("3.12");
}

#[test]
fn cpython_3_13() {
    installed_stdlib_checks_ok("3.13");
}
