//! `pyc clean` end to end: trees of real caches written by python3's py_compile, damaged in every way
//! `pyc check` names, cleaned by the built binary. importlib itself says which caches it would not load
//! as they stand (the oracle); those, and only those, go. A writer racing the cleaner, replacing bad
//! caches with good ones as importlib does, never loses one.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn pyc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(args)
        .output()
        .unwrap()
}

/// `pyc clean --json` over `root` with `extra` arguments: each file's line by path relative to
/// `root`, the summary, the exit code.
fn clean_json(root: &Path, extra: &[&str]) -> (BTreeMap<String, Value>, Value, i32) {
    let mut args = vec!["clean", "--json"];
    args.extend(extra);
    args.push(root.to_str().unwrap());
    let output = pyc(&args);
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let summary = lines.pop().unwrap();
    let files = lines
        .into_iter()
        .map(|line| {
            let path = Path::new(line["path"].as_str().unwrap());
            let relative = path.strip_prefix(root).unwrap().to_string_lossy();
            (relative.into_owned(), line)
        })
        .collect();
    (files, summary, output.status.code().unwrap())
}

/// Writes each `name = source text` module under `root/pkg` and compiles it with py_compile (timestamp
/// invalidation, the default). Returns the caches written.
fn compile(root: &Path, modules: &[(&str, &str)]) -> Vec<PathBuf> {
    let pkg = root.join("pkg");
    fs::create_dir_all(&pkg).unwrap();
    let sources: Vec<PathBuf> = modules
        .iter()
        .map(|(name, text)| {
            let source = pkg.join(format!("{name}.py"));
            fs::write(&source, text).unwrap();
            source
        })
        .collect();
    let script = "import py_compile, sys\nfor s in sys.argv[1:]:\n    print(py_compile.compile(s, doraise=True))";
    let out = support::python_output_with(&support::python3(), script, &sources);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .collect()
}

/// What importlib does with each cache of this interpreter's tag, as SourceLoader.get_code decides,
/// through its own functions: `loads` (the cache is read and used as it is), `rewrites` (its header is
/// refused or out of date: the source is compiled again and the cache written anew), `fails` (the
/// header is accepted but the body does not load: the import raises), `ignores` (no source, or not
/// the name cache_from_source gives: never read).
const IMPORTLIB_VERDICT: &str = "import importlib.util, marshal, os, sys, types
from importlib import _bootstrap_external as ext
for pyc in sys.argv[1:]:
    try:
        src = importlib.util.source_from_cache(pyc)
    except ValueError:
        print('ignores'); continue
    if not os.path.isfile(src) or importlib.util.cache_from_source(src) != pyc:
        print('ignores'); continue
    data = open(pyc, 'rb').read()
    details = {'name': 'm', 'path': pyc}
    try:
        flags = ext._classify_pyc(data, 'm', details)
        st = os.stat(src)
        if flags & 1 == 0:
            ext._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, 'm', details)
        elif flags & 2:
            ext._validate_hash_pyc(data, importlib.util.source_hash(open(src, 'rb').read()), 'm', details)
    except (ImportError, EOFError):
        print('rewrites'); continue
    try:
        code = marshal.loads(memoryview(data)[16:])
        print('loads' if isinstance(code, types.CodeType) else 'fails')
    except (EOFError, ValueError, TypeError):
        print('fails')";

fn importlib_verdicts(caches: &[PathBuf]) -> Vec<String> {
    let out = support::python_output_with(&support::python3(), IMPORTLIB_VERDICT, caches);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut data = fs::read(path).unwrap();
    data[at..at + bytes.len()].copy_from_slice(bytes);
    fs::write(path, data).unwrap();
}

fn cut(path: &Path, len: usize) {
    let data = fs::read(path).unwrap();
    fs::write(path, &data[..len]).unwrap();
}

/// A tree with a cache of every status: `(module, status)`, damaged accordingly; `ok` ones untouched.
/// Returns the cache of each module and the tag.
fn damaged_tree(root: &Path) -> (BTreeMap<&'static str, PathBuf>, String) {
    let modules = [
        "ok",
        "ok2",
        "stale",
        "orphan",
        "cut",
        "cutheader",
        "corrupt",
        "magic",
        "zero",
        "other",
    ];
    let sources: Vec<(&str, String)> = modules
        .iter()
        .map(|name| {
            (
                *name,
                format!("x = {name:?}\ndef f(a):\n    return (a, {name:?})\n"),
            )
        })
        .collect();
    let sources: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let caches: BTreeMap<&str, PathBuf> =
        modules.into_iter().zip(compile(root, &sources)).collect();
    let tag = support::python3().cache_tag;
    let pkg = root.join("pkg");
    fs::write(pkg.join("stale.py"), "x = 'changed'\n").unwrap();
    fs::remove_file(pkg.join("orphan.py")).unwrap();
    let len = fs::read(&caches["cut"]).unwrap().len();
    cut(&caches["cut"], len - 5);
    cut(&caches["cutheader"], 10);
    patch(&caches["corrupt"], 16, b"?");
    patch(&caches["magic"], 0, &[0x34, 0x12]);
    patch(&caches["zero"], 0, &[0; 4]);
    let minor: u32 = tag.trim_start_matches("cpython-3").parse().unwrap();
    let other = pkg.join(format!("__pycache__/other.cpython-3{}.pyc", minor + 1));
    fs::rename(&caches["other"], &other).unwrap();
    let mut caches = caches;
    caches.insert("other", other);
    (caches, tag)
}

/// The status `pyc check` gives each damaged module of [`damaged_tree`].
const STATUSES: [(&str, &str); 10] = [
    ("ok", "ok"),
    ("ok2", "ok"),
    ("stale", "stale"),
    ("orphan", "orphan"),
    ("cut", "truncated"),
    ("cutheader", "truncated"),
    ("corrupt", "corrupt"),
    ("magic", "unknown-magic"),
    ("zero", "incomplete-write"),
    ("other", "tag-mismatch"),
];

#[test]
fn clean_removes_what_importlib_would_not_load_as_it_stands_and_nothing_else() {
    let dir = support::tempdir();
    let (caches, tag) = damaged_tree(dir.path());
    let ok_bytes = fs::read(&caches["ok"]).unwrap();
    // The oracle, on this interpreter's caches (the one named for the next version is that
    // interpreter's to judge: it refuses a magic that is not its own).
    let own: Vec<(&str, PathBuf)> = caches
        .iter()
        .filter(|(name, _)| **name != "other")
        .map(|(name, path)| (*name, path.clone()))
        .collect();
    let paths: Vec<PathBuf> = own.iter().map(|(_, path)| path.clone()).collect();
    let verdicts: BTreeMap<&str, String> = own
        .iter()
        .map(|(name, _)| *name)
        .zip(importlib_verdicts(&paths))
        .collect();

    let (files, summary, code) = clean_json(dir.path(), &[]);
    for (module, status) in STATUSES {
        let relative = caches[module]
            .strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let line = &files[&relative];
        assert_eq!(line["status"], status, "{module}");
        let removed = line["action"] == "removed";
        assert_eq!(removed, status != "ok", "{module}: {line}");
        assert_eq!(caches[module].exists(), !removed, "{module}");
        if let Some(verdict) = verdicts.get(module) {
            assert_eq!(removed, verdict != "loads", "{module}: importlib {verdict}");
        }
    }
    assert_eq!(fs::read(&caches["ok"]).unwrap(), ok_bytes);
    let verdicts: Vec<&str> = verdicts.values().map(String::as_str).collect();
    for verdict in ["loads", "rewrites", "fails", "ignores"] {
        assert!(verdicts.contains(&verdict), "no cache importlib {verdict}");
    }
    assert_eq!(summary["actions"]["removed"], 8);
    assert_eq!(summary["actions"]["kept"], 2);
    assert_eq!(summary["counts"]["ok"], 2);
    assert_eq!(code, 0, "nothing is left that should go");

    // What is left checks clean, and python3 imports every module from it.
    let (_, summary, code) = clean_json(dir.path(), &[]);
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["actions"]["removed"], 0);
    assert_eq!(code, 0);
    let script = format!(
        "import sys; sys.path.insert(0, sys.argv[1]); import {}",
        ["ok", "ok2", "stale", "cut", "corrupt", "magic", "zero"]
            .map(|m| format!("pkg.{m}"))
            .join(", ")
    );
    let out = Command::new(support::python3().program)
        .args(["-c", &script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "{tag}: importlib verdicts {verdicts:?}; removed exactly the caches not loaded as they stand"
    );
}

#[test]
fn a_dry_run_lists_what_would_go_and_removes_nothing() {
    let dir = support::tempdir();
    let (caches, _) = damaged_tree(dir.path());
    let output = pyc(&["clean", "--dry-run", dir.path().to_str().unwrap()]);
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9, "{text}");
    for line in &lines[..8] {
        let (path, message) = line.split_once(": ").unwrap();
        assert!(Path::new(path).exists(), "{path}");
        assert!(message.starts_with("would remove: "), "{line}");
    }
    assert!(
        lines[8].ends_with("; would remove: 8"),
        "the summary says what would go: {}",
        lines[8]
    );
    assert!(caches.values().all(|path| path.exists()));
    assert_eq!(output.status.code(), Some(1), "files would be removed");
}

#[test]
fn only_removes_the_statuses_chosen_and_never_an_ok_changing_or_unreadable_file() {
    let dir = support::tempdir();
    let (caches, _) = damaged_tree(dir.path());
    let (files, summary, code) = clean_json(dir.path(), &["--only", "orphan,truncated"]);
    for (module, status) in STATUSES {
        let removed = ["orphan", "truncated"].contains(&status);
        assert_eq!(caches[module].exists(), !removed, "{module}");
    }
    let kept = files
        .values()
        .filter(|line| line["action"] == "kept")
        .count();
    assert_eq!(kept, 7);
    assert_eq!(summary["actions"]["removed"], 3);
    assert_eq!(code, 0);
    for never in ["ok", "changing", "unreadable"] {
        let output = pyc(&["clean", "--only", never, dir.path().to_str().unwrap()]);
        let error = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{never}");
        assert!(error.contains("never removed"), "{error}");
    }
    let output = pyc(&["clean", "--only", "bogus", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
#[cfg(unix)]
fn a_link_at_a_files_name_is_neither_followed_nor_removed() {
    let dir = support::tempdir();
    let (caches, tag) = damaged_tree(dir.path());
    let link = dir.path().join(format!("pkg/__pycache__/link.{tag}.pyc"));
    std::os::unix::fs::symlink(&caches["cut"], &link).unwrap();
    let fifo = dir.path().join(format!("pkg/__pycache__/fifo.{tag}.pyc"));
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Named on the command line, the link is still not followed: clean would remove the link.
    let output = pyc(&[
        "clean",
        "--json",
        link.to_str().unwrap(),
        fifo.to_str().unwrap(),
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for line in &lines[..2] {
        assert_eq!(line["status"], "unreadable", "{line}");
        assert_eq!(line["action"], "kept");
    }
    assert!(fs::symlink_metadata(&link).is_ok() && caches["cut"].exists());
    assert!(fifo.exists());
    assert_eq!(output.status.code(), Some(1), "unreadable files were left");
}

/// Replaces the file at `path` with `data` as importlib writes caches: a new file beside it, renamed
/// over it.
fn replace_atomically(path: &Path, data: &[u8]) {
    let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
    fs::write(&temporary, data).unwrap();
    fs::rename(&temporary, path).unwrap();
}

#[test]
fn a_cache_a_writer_replaces_while_clean_runs_is_left_alone() {
    const FILES: usize = 200;
    const ROUNDS: usize = 30;
    let dir = support::tempdir();
    let modules: Vec<(String, String)> = (0..FILES)
        .map(|i| (format!("m{i}"), format!("v = {i}\n")))
        .collect();
    let modules: Vec<(&str, &str)> = modules
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let caches = compile(dir.path(), &modules);
    let good: Vec<Vec<u8>> = caches.iter().map(|path| fs::read(path).unwrap()).collect();
    let (mut removed, mut changed, mut overlapping) = (0, 0, 0);
    for round in 0..ROUNDS {
        // Every cache cut short; then, while clean runs, each replaced by its good version, once, from
        // one end of the tree to the other, at about the cleaner's pace.
        for (path, data) in caches.iter().zip(&good) {
            fs::write(path, &data[..data.len() - 1]).unwrap();
        }
        let summary = std::thread::scope(|scope| {
            scope.spawn(|| {
                for n in 0..FILES {
                    let i = (n * 7 + round * 13) % FILES;
                    replace_atomically(&caches[i], &good[i]);
                    if n % 4 == 0 {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            });
            clean_json(dir.path(), &["-j", "2"]).1
        });
        // A cut cache removed before the writer came is written again by it; one it replaced before
        // the cleaner came is ok; one it replaced in between is seen to have changed. In no order of
        // events may a good cache be lost.
        for (path, data) in caches.iter().zip(&good) {
            let bytes = fs::read(path).unwrap_or_default();
            assert!(bytes == *data, "round {round}: {} lost", path.display());
        }
        let leftovers: Vec<PathBuf> = support::read_dir_sorted(&dir.path().join("pkg/__pycache__"))
            .into_iter()
            .filter(|path| path.to_string_lossy().contains(".pyc-clean-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let round_removed = summary["actions"]["removed"].as_u64().unwrap();
        removed += round_removed;
        changed += summary["actions"]["changed"].as_u64().unwrap();
        overlapping +=
            usize::from(round_removed > 0 && summary["counts"]["ok"].as_u64().unwrap() > 0);
    }
    println!(
        "{ROUNDS} rounds of {FILES} caches, {overlapping} with the writer and the cleaner at work \
         together: {removed} cut caches removed, {changed} replaced between the check and the removal \
         and left alone"
    );
    assert!(overlapping > 0, "the writer never raced the cleaner");
}
