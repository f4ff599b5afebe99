//! `--pycache-prefix DIR`: a tree written by `python3 -X pycache_prefix=DIR -m compileall`, checked and
//! cleaned with each cache paired with its source as importlib pairs them. importlib itself, run with
//! the same prefix, is the oracle: for every source, `cache_from_source` names the cache `pyc check`
//! paired with it, and its own validation says whether that cache is current.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn pyc_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyc"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The JSON lines of a `pyc check --json` or `pyc clean --json` run, by path as printed, and the
/// summary.
fn json_lines(output: &Output) -> (BTreeMap<String, Value>, Value) {
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    let mut lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary = lines.pop().unwrap();
    let files = lines
        .into_iter()
        .map(|line| (line["path"].as_str().unwrap().to_string(), line))
        .collect();
    (files, summary)
}

/// Sources under `root/src`, compiled at levels 0 and 1 into the prefix `root/prefix`, then damaged: one
/// source edited (its caches stale), one removed (orphans), a file without a tag put among the caches.
/// Returns the sources left.
fn prefix_tree(root: &Path) -> Vec<PathBuf> {
    let modules = [
        "pkg/a.py",
        "pkg/b.py",
        "pkg/gone.py",
        "pkg/dotted.name.py",
        "pkg/sub/c.py",
    ];
    for module in modules {
        let path = root.join("src").join(module);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, format!("name = {module:?}\n")).unwrap();
    }
    let status = Command::new(support::python3().program)
        .current_dir(root)
        .args(["-X", "pycache_prefix=prefix", "-m", "compileall", "-q"])
        .args(["-o", "0", "-o", "1", "src"])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        !root.join("src/pkg/__pycache__").exists(),
        "the caches went to the prefix"
    );
    let a = root.join("src/pkg/a.py");
    fs::write(&a, "name = 'edited'\n").unwrap();
    let later = fs::metadata(&a).unwrap().modified().unwrap() + Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(later)
        .unwrap();
    fs::remove_file(root.join("src/pkg/gone.py")).unwrap();
    let tag = support::python3().cache_tag;
    let b_cache = &support::files_under(&root.join("prefix"), &format!("/b.{tag}.pyc"))[0];
    fs::copy(b_cache, b_cache.with_file_name("untagged.pyc")).unwrap();
    modules
        .iter()
        .filter(|m| **m != "pkg/gone.py")
        .map(|m| root.join("src").join(m))
        .collect()
}

/// importlib with the prefix: for each source, each optimization level's cache (`cache_from_source`)
/// that exists, and whether importlib's own validation takes it as current (`ok`) or not (`stale`).
const IMPORTLIB_PAIRS: &str = "import importlib.util, os, sys
from importlib import _bootstrap_external as ext
for src in sys.argv[1:]:
    for level in ('', 1):
        pyc = importlib.util.cache_from_source(src, optimization=level)
        if not os.path.exists(pyc):
            continue
        data = open(pyc, 'rb').read()
        st = os.stat(src)
        try:
            ext._classify_pyc(data, 'm', {})
            ext._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, 'm', {})
            print(pyc, src, 'ok')
        except ImportError:
            print(pyc, src, 'stale')";

fn importlib_pairs(root: &Path, sources: &[PathBuf]) -> Vec<(String, String, String)> {
    let out = Command::new(support::python3().program)
        .current_dir(root)
        .args(["-X", "pycache_prefix=prefix", "-c", IMPORTLIB_PAIRS])
        .args(sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let mut next = || parts.next().unwrap().to_string();
            (next(), next(), next())
        })
        .collect()
}

#[test]
fn caches_under_the_prefix_are_paired_with_their_sources_as_importlib_pairs_them() {
    let dir = support::tempdir();
    let root = dir.path();
    let sources = prefix_tree(root);
    let pairs = importlib_pairs(root, &sources);
    assert_eq!(pairs.len(), 8, "two levels of four sources: {pairs:?}");
    // Given the prefix alone, relative to the working directory as Python was given it.
    let output = pyc_in(root, &["check", "--json", "--pycache-prefix", "prefix"]);
    let (files, summary) = json_lines(&output);
    // importlib names the caches under the prefix as it was given, relative.
    for (pyc, source, status) in &pairs {
        let line = &files[pyc];
        assert_eq!(line["status"], status.as_str(), "{pyc}");
        assert_eq!(line["source"], source.as_str(), "{pyc}");
    }
    let stale = pairs
        .iter()
        .filter(|(_, _, status)| status == "stale")
        .count();
    assert_eq!(stale, 2);
    let counts = &summary["counts"];
    assert_eq!(counts["ok"], 6);
    assert_eq!(counts["stale"], 2);
    assert_eq!(counts["orphan"], 2, "the removed source's two caches");
    assert_eq!(counts["tag-mismatch"], 1);
    let untagged = files
        .values()
        .find(|line| line["path"].as_str().unwrap().ends_with("untagged.pyc"))
        .unwrap();
    assert_eq!(
        untagged["message"],
        "tag-mismatch: under the pycache prefix but not named NAME.TAG.pyc or NAME.TAG.opt-N.pyc"
    );
    assert_eq!(output.status.code(), Some(1));

    // The same, with the prefix absolute and named as a path too: each file once, the same verdicts.
    let prefix = root.join("prefix");
    let prefix = prefix.to_str().unwrap();
    let output = pyc_in(
        Path::new("/"),
        &["check", "--json", "--pycache-prefix", prefix, prefix],
    );
    let (absolute, _) = json_lines(&output);
    assert_eq!(absolute.len(), files.len());
    for (path, line) in &files {
        let line_there = &absolute[root.join(path).to_str().unwrap()];
        assert_eq!(line_there["status"], line["status"], "{path}");
        assert_eq!(line_there["source"], line["source"], "{path}");
    }

    // Without the option, the tree reads as legacy caches with no source beside them.
    let output = pyc_in(root, &["check", "--json", "prefix"]);
    let (legacy, _) = json_lines(&output);
    for (pyc, _, _) in &pairs {
        assert_eq!(legacy[pyc]["status"], "ok", "{pyc}");
        assert_eq!(legacy[pyc]["source"], Value::Null, "{pyc}");
    }
}

#[test]
fn clean_with_the_prefix_leaves_what_importlib_loads_from_it() {
    let dir = support::tempdir();
    let root = dir.path();
    let sources = prefix_tree(root);
    let output = pyc_in(root, &["clean", "--json", "--pycache-prefix", "prefix"]);
    let (files, summary) = json_lines(&output);
    assert_eq!(summary["actions"]["removed"], 5, "{files:#?}");
    assert_eq!(output.status.code(), Some(0));
    for line in files.values() {
        let present = root.join(line["path"].as_str().unwrap()).exists();
        assert_eq!(present, line["status"] == "ok", "{line}");
    }
    // What is left is exactly the caches importlib takes as current.
    let pairs = importlib_pairs(root, &sources);
    assert!(
        pairs.iter().all(|(_, _, status)| status == "ok"),
        "{pairs:?}"
    );
    assert_eq!(pairs.len(), 6);
    assert_eq!(support::files_under(&root.join("prefix"), ".pyc").len(), 6);
}
