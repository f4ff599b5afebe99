//! The bytecode layer against the interpreters' own `dis`, one test per interpreter (CPython 2.7 and 3.6
//! to 3.13 from pyenv, PyPy 3 from `PATH`): for a sample of its standard library compiled by its own
//! compileall (plain and with -OO), and for the corpus files of its magic number, every code
//! object in pre-order must have the interpreter's instructions (offset, name, opcode, argument with
//! `EXTENDED_ARG` folded, what the argument stands for: constant, name, local, cell, jump target,
//! comparison, operator), line starts (`dis.findlinestarts`), line ranges (`co_lines()`, 3.10+),
//! positions (`co_positions()`, 3.11+) and exception table (3.11+).
//!
//! The corpus files of the versions no interpreter here runs (CPython 1.0 to 2.6, 3.0 to 3.5 and 3.14,
//! PyPy 2.7, 3.5 to 3.8 and 3.10) are held to xdis instead, with `tests/oracle/xdis_disasm.py --fix`
//! working around the xdis mistakes the interpreters disprove (its docstring lists them).
//!
//! What pycmarshal says is `pyc dis --json`'s output ([`pycmarshal::tools::dis::write_json`]);
//! `tests/oracle/disasm.py` says what the interpreter says, and compares (its `--compare`). The
//! interpreter reads the files with `marshal.loads`, so the constants are its own objects.

mod support;

use pycmarshal::Bytecode;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::Interpreter;

/// Standard-library files per interpreter and optimization level: the interpreters test compiles the
/// same sample (the fixture is shared).
const SAMPLE: usize = 100;

fn disasm_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/disasm.py")
}

fn check_interpreter(name: &str) {
    let test = format!("bytecode {name}");
    let Some(python) = support::oracle_interpreter(name, &test) else {
        return;
    };
    let mut files: Vec<PathBuf> = support::compiled_sample(&python, SAMPLE)
        .into_iter()
        // hash-based pycs hold the same code as timestamp-0, and -O's differs from it less than
        // -OO's (no asserts, then no docstrings either): the default and -OO
        .filter(|(variant, _)| !variant.contains("hash") && variant != "timestamp-1")
        .map(|(_, path)| path)
        .collect();
    let sample = files.len();
    files.extend(corpus_files_of(&python));
    let expect = run_disasm(&python, &files);
    let summary = compare(&python, expect, &files, "dis");
    assert_eq!(
        summary["refused"],
        0,
        "{}: the interpreter could not load some of its own files",
        python.label()
    );
    assert!(
        summary["instructions"].as_u64().unwrap() > 10_000,
        "{}: too little compared: {summary}",
        python.label()
    );
    println!(
        "{}: {sample} standard-library files and {} corpus files, all but those of another \
         implementation (left to xdis) agree with dis: {summary}",
        python.label(),
        files.len() - sample
    );
}

/// The corpus files of the interpreter's own magic number (on Python 2 also its `-U` magic, + 1): what
/// another build of the same release wrote.
fn corpus_files_of(python: &Interpreter) -> Vec<PathBuf> {
    let Some(corpus) = support::corpus("bytecode (corpus part)") else {
        return Vec::new();
    };
    let mut magics = BTreeSet::from([python.magic]);
    if python.version.starts_with("2.") {
        magics.insert(python.magic + 1);
    }
    support::corpus_files(&corpus)
        .into_iter()
        .filter(|(_, path)| {
            let data = std::fs::read(path).unwrap();
            pycmarshal::read::header::parse(&data, None).is_ok_and(|header| {
                magics.contains(&header.magic()) && pycmarshal::parse_pyc(&data).is_ok()
            })
        })
        .map(|(_, path)| path)
        .collect()
}

/// What the interpreter's `dis` says of every file, a JSON line each.
fn run_disasm(python: &Interpreter, files: &[PathBuf]) -> String {
    run_script(python, &disasm_script(), &[], files)
}

fn run_script(python: &Interpreter, script: &Path, options: &[&str], files: &[PathBuf]) -> String {
    let out = Command::new(&python.program)
        .arg(script)
        .args(options)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {} failed: {}",
        python.label(),
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Compares the two views of `files` with `disasm.py --compare` run by `python`; returns its summary.
fn compare(
    python: &Interpreter,
    expect: String,
    files: &[PathBuf],
    oracle: &str,
) -> serde_json::Value {
    let dir = support::tempdir();
    std::fs::write(dir.path().join("expect.jsonl"), expect).unwrap();
    let mut actual = String::new();
    for path in files {
        actual.push_str(&ours(path));
        actual.push('\n');
    }
    std::fs::write(dir.path().join("actual.jsonl"), actual).unwrap();
    let out = Command::new(&python.program)
        .arg(disasm_script())
        .arg("--compare")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pycmarshal's disassembly differs from {oracle}'s:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
}

/// The opcode sets the interpreter tests cover, whose corpus files xdis need not be asked about.
const INTERPRETED: &[(pycmarshal::Implementation, u8, u8)] = &[
    (pycmarshal::Implementation::CPython, 2, 7),
    (pycmarshal::Implementation::CPython, 3, 6),
    (pycmarshal::Implementation::CPython, 3, 7),
    (pycmarshal::Implementation::CPython, 3, 8),
    (pycmarshal::Implementation::CPython, 3, 9),
    (pycmarshal::Implementation::CPython, 3, 10),
    (pycmarshal::Implementation::CPython, 3, 11),
    (pycmarshal::Implementation::CPython, 3, 12),
    (pycmarshal::Implementation::CPython, 3, 13),
    (pycmarshal::Implementation::PyPy, 3, 9),
];

#[test]
fn corpus_versions_without_an_interpreter_agree_with_xdis() {
    let Some(corpus) = support::corpus("bytecode against xdis") else {
        return;
    };
    let python = support::python3();
    let probe = support::python_output(
        &python,
        "import importlib.util as u; print(bool(u.find_spec('xdis')))",
    );
    if String::from_utf8_lossy(&probe).trim() != "True" {
        eprintln!("SKIPPED bytecode against xdis: python3 has no xdis (.ci/setup installs it)");
        return;
    }
    let files: Vec<PathBuf> = support::corpus_files(&corpus)
        .into_iter()
        .filter(|(_, path)| {
            let data = std::fs::read(path).unwrap();
            let Ok(pyc) = pycmarshal::parse_pyc(&data) else {
                return false;
            };
            // By the opcode set it is read with: a PyPy 3.8 file with CPython 3.8's magic is
            // PyPy's, which no interpreter here runs.
            let codes = pycmarshal::tools::dis::code_objects(pyc.objects.root().unwrap());
            match pycmarshal::tools::dis::reading(&codes) {
                Ok(set) => {
                    let (major, minor) = set.version;
                    !INTERPRETED.contains(&(set.implementation, major, minor))
                }
                Err(_) => false,
            }
        })
        .map(|(_, path)| path)
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/xdis_disasm.py");
    let expect = run_script(&python, &script, &["--fix"], &files);
    let summary = compare(&python, expect, &files, "xdis");
    println!(
        "{} corpus files agree with xdis, {} it cannot read left out: {summary}",
        summary["files"], summary["refused"]
    );
}

/// What pycmarshal says of one file: `{"path", "document", "dis"}`, the document giving the tables the
/// disassembly's constants refer to.
fn ours(path: &Path) -> String {
    let data = std::fs::read(path).unwrap();
    let partial = pycmarshal::Options::new().parse_pyc_tolerant(&data);
    let root = partial.objects.root();
    let document = support::json_document(partial.header.as_ref(), root, partial.error.as_ref());
    let mut dis = String::new();
    pycmarshal::tools::dis::write_json(
        &mut dis,
        partial.header.as_ref(),
        root,
        partial.error.as_ref(),
    )
    .unwrap();
    format!(
        "{{\"path\":{},\"document\":{document},\"dis\":{dis}}}",
        serde_json::Value::from(path.to_string_lossy())
    )
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
fn pypy_3() {
    check_interpreter("pypy3");
}

/// Before 1.5 no line table exists: a line begins at its `SET_LINENO` instruction. The compilers of 1.5
/// to 2.2 wrote both, and their `co_lnotab` starts each line at the `SET_LINENO` instruction itself
/// (not after it, where xdis puts it): the convention the older files are read with.
#[test]
fn set_lineno_instructions_stand_where_the_lnotab_starts_lines() {
    let Some(corpus) = support::corpus("SET_LINENO against lnotab") else {
        return;
    };
    let (mut codes, mut starts) = (0, 0);
    for (_, path) in support::corpus_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let Ok(pyc) = pycmarshal::parse_pyc(&data) else {
            continue;
        };
        let v = pyc.header.python;
        if v.implementation != pycmarshal::Implementation::CPython
            || !((1, 5)..(2, 3)).contains(&(v.major, v.minor))
        {
            continue;
        }
        for located in pycmarshal::tools::dis::code_objects(pyc.objects.root().unwrap()) {
            let code = located.code;
            let mut marked: Vec<(u32, Option<i64>)> = Vec::new();
            for instruction in code.instructions() {
                let instruction = instruction.unwrap();
                if instruction.name == "SET_LINENO" {
                    let line = instruction.arg.map(i64::from);
                    if marked.last().is_none_or(|last| last.1 != line) {
                        marked.push((instruction.offset, line));
                    }
                }
            }
            if marked.is_empty() {
                continue; // compiled with -O: no SET_LINENO
            }
            // The table starts with co_firstlineno at offset 0, the first line a SET_LINENO
            // gives other than 0 (a module's first is 0): compared after it.
            let first = code.firstlineno().map(i64::from);
            let lead = marked
                .iter()
                .position(|s| s.1 == first)
                .map_or(0, |i| i + 1);
            marked.drain(..lead);
            let table: Vec<(u32, Option<i64>)> = code
                .line_starts()
                .unwrap()
                .iter()
                .skip(1)
                .map(|s| (s.offset, s.line))
                .collect();
            assert_eq!(marked, table, "{}: {:?}", path.display(), code.name());
            codes += 1;
            starts += table.len();
        }
    }
    assert!(codes > 100, "too few code objects with SET_LINENO: {codes}");
    println!("{codes} code objects of 1.5-2.2: {starts} line starts, SET_LINENO and lnotab agree");
}

/// The bytecode fuzz target's properties (no panic, output linear in the file, every prefix of
/// `co_code` a prefix of the instructions then a typed error) on every corpus file: real bytecode of
/// every version, where generated graphs rarely get far.
#[test]
fn the_bytecode_fuzz_properties_hold_on_every_corpus_file() {
    let Some(corpus) = support::corpus("bytecode fuzz properties") else {
        return;
    };
    let files = support::corpus_files(&corpus);
    for (_, path) in &files {
        let data = std::fs::read(path).unwrap();
        pycmarshal::fuzzing::bytecode(&data);
    }
    println!("{} corpus files", files.len());
}

/// The opcode tables checked in are what `generate.py` writes from its facts files (formatted as
/// `cargo fmt` leaves them), and every interpreter here agrees with its facts in its own `opcode` and
/// `dis` modules.
#[test]
fn opcode_tables_are_generated_from_facts_the_interpreters_here_confirm() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bytecode/opcodes/generate.py");
    for flag in ["--check", "--check-interpreters"] {
        let out = Command::new("python3")
            .arg(&script)
            .arg(flag)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("generate.py {flag}:\n{stdout}");
        assert!(
            out.status.success(),
            "generate.py {flag} failed:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
