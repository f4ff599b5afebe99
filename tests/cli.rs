//! The `pyc` command end to end: real caches written by python3's py_compile in every invalidation mode
//! and optimization level, damaged in every way `pyc check` names, then checked by the built binary.
//! importlib's own validation functions are the oracle for what is stale.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

fn pyc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Compiles each `(source, cfile or "", optimize, mode)` with py_compile in one python3 process; mode
/// is a `PycInvalidationMode` name. Returns the files written.
fn compile(jobs: &[(&Path, &str, u8, &str)]) -> Vec<PathBuf> {
    let script = "import py_compile, sys
args = sys.argv[1:]
for i in range(0, len(args), 4):
    src, cfile, opt, mode = args[i:i + 4]
    print(py_compile.compile(src, cfile=cfile or None, optimize=int(opt), doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode[mode]))";
    let mut command = Command::new(support::python3().program);
    command.args(["-c", script]);
    for (source, cfile, optimize, mode) in jobs {
        command
            .arg(source)
            .arg(cfile)
            .arg(optimize.to_string())
            .arg(mode);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "py_compile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).lines().map(PathBuf::from).collect()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// Rewrites the source with other text of the same length and puts its mtime back: what only a hash
/// can notice.
fn edit_keeping_size_and_mtime(path: &Path) {
    let before = mtime(path);
    let text = fs::read_to_string(path).unwrap();
    fs::write(path, text.replace("1", "2")).unwrap();
    assert_eq!(fs::read_to_string(path).unwrap().len(), text.len());
    set_mtime(path, before);
}

fn touch(path: &Path) {
    set_mtime(path, mtime(path) + Duration::from_secs(10));
}

fn patch(path: &Path, at: usize, bytes: &[u8]) {
    let mut data = fs::read(path).unwrap();
    data[at..at + bytes.len()].copy_from_slice(bytes);
    fs::write(path, data).unwrap();
}

fn relative(root: &Path, path: &str) -> String {
    Path::new(path)
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `pyc check --json` over `root` (plus `extra` arguments): each file's line by path relative to
/// `root`, the summary, the exit code.
fn check_json(root: &Path, extra: &[&str]) -> (BTreeMap<String, Value>, Value, i32) {
    let mut args = vec!["check", "--json", root.to_str().unwrap()];
    args.extend(extra);
    let output = pyc(&args);
    let mut lines = json_lines(&output);
    let summary = lines.pop().unwrap();
    let files = lines
        .into_iter()
        .map(|line| (relative(root, line["path"].as_str().unwrap()), line))
        .collect();
    (files, summary, output.status.code().unwrap())
}

fn statuses(files: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(path, line)| (path.clone(), line["status"].as_str().unwrap().to_string()))
        .collect()
}

/// A package with one source per invalidation mode, each compiled at optimization levels 0, 1 and 2,
/// and a legacy `NAME.pyc` beside its source.
struct Tree {
    dir: tempfile::TempDir,
    tag: String,
}

const MODES: [(&str, &str, &str); 3] = [
    ("t", "TIMESTAMP", "timestamp"),
    ("c", "CHECKED_HASH", "checked-hash"),
    ("u", "UNCHECKED_HASH", "unchecked-hash"),
];

impl Tree {
    fn new() -> Tree {
        let dir = support::tempdir();
        let mut jobs = Vec::new();
        let sources: Vec<PathBuf> = MODES
            .iter()
            .map(|(name, ..)| dir.path().join(format!("pkg/{name}.py")))
            .collect();
        for (source, (name, ..)) in sources.iter().zip(MODES) {
            write(
                source,
                &format!("x = 1\nname = {name:?}\n\ndef f(a):\n    return a + 1\n"),
            );
        }
        for (source, (_, mode, _)) in sources.iter().zip(MODES) {
            for optimize in 0..3 {
                jobs.push((source.as_path(), "", optimize, mode));
            }
        }
        let legacy = dir.path().join("pkg/legacy.py");
        write(&legacy, "y = 1\n");
        let legacy_pyc = legacy.with_extension("pyc");
        jobs.push((&legacy, legacy_pyc.to_str().unwrap(), 0, "TIMESTAMP"));
        compile(&jobs);
        Tree {
            dir,
            tag: support::python3().cache_tag,
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// `pkg/__pycache__/NAME.TAG.pyc` (optimization 0).
    fn cache(&self, name: &str) -> String {
        format!("pkg/__pycache__/{name}.{}.pyc", self.tag)
    }
}

#[test]
fn fresh_caches_of_every_mode_and_optimization_level_are_ok() {
    let tree = Tree::new();
    let python = support::python3();
    let (files, summary, code) = check_json(tree.root(), &[]);
    assert_eq!(files.len(), 10, "{files:#?}");
    for (path, line) in &files {
        assert_eq!(line["status"], "ok", "{path}: {line}");
        assert_eq!(line["python"], python.version.as_str());
        assert_eq!(line["implementation"], "CPython");
        assert_eq!(line["magic"], python.magic);
        assert_eq!(line["error"], Value::Null);
        assert_eq!(line["message"], Value::Null);
        let bytes = fs::metadata(tree.path(path)).unwrap().len();
        assert_eq!(line["bytes"], bytes);
    }
    for (name, _, invalidation) in MODES {
        for suffix in ["", ".opt-1", ".opt-2"] {
            let path = format!("pkg/__pycache__/{name}.{}{suffix}.pyc", tree.tag);
            let line = &files[&path];
            assert_eq!(line["invalidation"], invalidation, "{path}");
            let source = tree.path(&format!("pkg/{name}.py"));
            assert_eq!(line["source"], source.to_str().unwrap(), "{path}");
        }
    }
    assert_eq!(files["pkg/legacy.pyc"]["invalidation"], "timestamp");
    assert_eq!(summary["counts"]["ok"], 10);
    assert_eq!(code, 0);
}

#[test]
fn a_changed_source_makes_the_cache_stale_as_importlib_decides() {
    let tree = Tree::new();
    // Timestamp pycs notice a touch and an edit, not an edit that keeps size and mtime.
    let t = tree.path("pkg/t.py");
    // Checked-hash pycs notice exactly that edit, and ignore a touch.
    let c = tree.path("pkg/c.py");
    // Unchecked-hash pycs are used whatever the source says.
    let u = tree.path("pkg/u.py");
    touch(&t);
    edit_keeping_size_and_mtime(&c);
    fs::write(&u, "completely different\n").unwrap();
    let (files, summary, code) = check_json(tree.root(), &[]);
    let statuses = statuses(&files);
    for suffix in ["", ".opt-1", ".opt-2"] {
        let name = |n: &str| format!("pkg/__pycache__/{n}.{}{suffix}.pyc", tree.tag);
        assert_eq!(statuses[&name("t")], "stale");
        assert_eq!(statuses[&name("c")], "stale");
        assert_eq!(statuses[&name("u")], "ok");
    }
    let stale = &files[&tree.cache("c")];
    assert_eq!(stale["source"], c.to_str().unwrap());
    assert_eq!(stale["error"], Value::Null);
    assert!(
        stale["message"]
            .as_str()
            .unwrap()
            .starts_with("stale: source ")
    );
    assert_eq!(summary["counts"]["stale"], 6);
    assert_eq!(code, 1);

    // Undo the touch, then edit t.py keeping size and mtime: importlib cannot tell, nor can we.
    set_mtime(&t, mtime(&t) - Duration::from_secs(10));
    edit_keeping_size_and_mtime(&t);
    touch(&c);
    let statuses = self::statuses(&check_json(tree.root(), &[]).0);
    assert_eq!(statuses[&tree.cache("t")], "ok");
    assert_eq!(statuses[&tree.cache("c")], "stale");

    // An edit that changes the size is stale even with the old mtime put back.
    let before = mtime(&t);
    fs::write(&t, "x = 100000\n").unwrap();
    set_mtime(&t, before);
    let statuses = self::statuses(&check_json(tree.root(), &[]).0);
    assert_eq!(statuses[&tree.cache("t")], "stale");
    assert_eq!(statuses["pkg/legacy.pyc"], "ok");
    touch(&tree.path("pkg/legacy.py"));
    let statuses = self::statuses(&check_json(tree.root(), &[]).0);
    assert_eq!(statuses["pkg/legacy.pyc"], "stale");
}

/// importlib's own `_classify_pyc`, `_validate_timestamp_pyc` and `_validate_hash_pyc` decide, for
/// each pyc and its source, whether `SourceLoader.get_code` would use the cache.
const IMPORTLIB_ORACLE: &str = "import importlib.util, sys, os
from importlib import _bootstrap_external as ext
args = sys.argv[1:]
for i in range(0, len(args), 2):
    pyc, src = args[i:i + 2]
    data = open(pyc, 'rb').read()
    details = {'name': pyc, 'path': pyc}
    try:
        flags = ext._classify_pyc(data, pyc, details)
        with open(src, 'rb') as f:
            source = f.read()
        st = os.stat(src)
        if flags & 1 == 0:
            # As SourceLoader.get_code passes them.
            ext._validate_timestamp_pyc(data, int(st.st_mtime), st.st_size, pyc, details)
        elif flags & 2:
            ext._validate_hash_pyc(data, importlib.util.source_hash(source), pyc, details)
        print('ok')
    except ImportError:
        print('stale')";

#[test]
fn staleness_agrees_with_importlib_itself() {
    let tree = Tree::new();
    touch(&tree.path("pkg/t.py"));
    edit_keeping_size_and_mtime(&tree.path("pkg/c.py"));
    fs::write(tree.path("pkg/u.py"), "changed = True\n").unwrap();
    let (files, _, _) = check_json(tree.root(), &[]);
    let mut command = Command::new(support::python3().program);
    command.args(["-c", IMPORTLIB_ORACLE]);
    let mut ours = Vec::new();
    for (path, line) in &files {
        command
            .arg(tree.path(path))
            .arg(line["source"].as_str().unwrap());
        ours.push((path.clone(), line["status"].as_str().unwrap().to_string()));
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(theirs.len(), ours.len());
    let mut stale = 0;
    for ((path, ours), theirs) in ours.iter().zip(&theirs) {
        assert_eq!(ours, theirs, "{path}");
        stale += usize::from(ours == "stale");
    }
    assert_eq!(stale, 6, "both timestamp and checked-hash files went stale");
}

#[test]
fn a_cache_without_its_source_is_an_orphan_but_a_legacy_pyc_is_sourceless() {
    let tree = Tree::new();
    fs::remove_file(tree.path("pkg/t.py")).unwrap();
    fs::remove_file(tree.path("pkg/legacy.py")).unwrap();
    let (files, summary, code) = check_json(tree.root(), &[]);
    let line = &files[&tree.cache("t")];
    assert_eq!(line["status"], "orphan");
    assert_eq!(line["source"], Value::Null);
    assert_eq!(
        line["message"],
        format!("orphan: no source {}", tree.path("pkg/t.py").display())
    );
    assert_eq!(files["pkg/legacy.pyc"]["status"], "ok");
    assert_eq!(files["pkg/legacy.pyc"]["source"], Value::Null);
    assert_eq!(summary["counts"]["orphan"], 3);
    assert_eq!(code, 1);
}

#[test]
fn a_cut_pyc_is_truncated_wherever_it_is_cut() {
    let tree = Tree::new();
    let original = fs::read(tree.path(&tree.cache("t"))).unwrap();
    let mut cuts = Vec::new();
    for len in [0, 3, 10, 16, 17, original.len() / 2, original.len() - 1] {
        let name = format!("pkg/__pycache__/cut{len}.{}.pyc", tree.tag);
        fs::write(tree.path(&name), &original[..len]).unwrap();
        cuts.push((name, len));
    }
    let (files, summary, code) = check_json(tree.root(), &["--no-source"]);
    for (name, len) in &cuts {
        let line = &files[name];
        assert_eq!(line["status"], "truncated", "{name}");
        let error = &line["error"];
        assert_eq!(error["kind"], "truncated", "{name}");
        assert!(error["offset"].as_u64().unwrap() <= *len as u64, "{name}");
        assert_eq!(line["message"], error["message"]);
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("truncated at byte {}", error["offset"]))
        );
    }
    let header_cut = &files[&cuts[2].0]["error"];
    assert_eq!(
        header_cut["message"],
        "truncated at byte 8 while reading mtime (needs 4 bytes, 2 left)"
    );
    assert_eq!(header_cut["path"], "mtime");
    // The header of a cut file is still reported when it was whole.
    assert_eq!(files[&cuts[4].0]["invalidation"], "timestamp");
    assert_eq!(files[&cuts[0].0]["python"], Value::Null);
    assert_eq!(summary["counts"]["truncated"], cuts.len() as u64);
    assert_eq!(code, 1);

    // The human form: `PATH: MESSAGE`, the library's Display after the colon.
    let output = pyc(&["check", tree.path(&cuts[2].0).to_str().unwrap()]);
    let text = stdout(&output);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "{}: truncated at byte 8 while reading mtime (needs 4 bytes, 2 left)",
            tree.path(&cuts[2].0).display()
        )
    );
    assert!(lines.next().unwrap().starts_with("1 file, 0.0 MB in "));
    assert_eq!(lines.next(), None);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn overwritten_bytes_are_corrupt() {
    let tree = Tree::new();
    let cases = [
        ("u", 16, &b"?"[..], "root-not-code"),
        ("t", 4, &[4, 0, 0, 0][..], "bad-flags"),
    ];
    for (name, at, bytes, _) in cases {
        patch(&tree.path(&tree.cache(name)), at, bytes);
    }
    let trailing = tree.path(&tree.cache("c"));
    let mut data = fs::read(&trailing).unwrap();
    data.push(b'N');
    fs::write(&trailing, data).unwrap();
    let (files, summary, code) = check_json(tree.root(), &[]);
    for (name, at, _, kind) in cases {
        let line = &files[&tree.cache(name)];
        assert_eq!(line["status"], "corrupt", "{name}");
        assert_eq!(line["error"]["kind"], kind);
        assert_eq!(line["error"]["offset"], at);
        assert!(line["message"].as_str().unwrap().starts_with("corrupt: "));
    }
    let line = &files[&tree.cache("c")];
    assert_eq!(line["status"], "corrupt");
    assert_eq!(line["error"]["kind"], "trailing-bytes");
    assert_eq!(summary["counts"]["corrupt"], 3);
    assert_eq!(code, 1);
}

#[test]
fn a_tag_that_is_not_the_magics_interpreter_is_a_tag_mismatch() {
    let tree = Tree::new();
    let python = support::python3();
    let minor: u32 = python.version.split('.').nth(1).unwrap().parse().unwrap();
    let other_tag = format!("cpython-3{}", minor + 1);
    let renamed = format!("pkg/__pycache__/t.{other_tag}.pyc");
    fs::rename(tree.path(&tree.cache("t")), tree.path(&renamed)).unwrap();
    fs::copy(
        tree.path(&tree.cache("u")),
        tree.path("pkg/__pycache__/u.pyc"),
    )
    .unwrap();
    let (files, summary, code) = check_json(tree.root(), &[]);
    let line = &files[&renamed];
    assert_eq!(line["status"], "tag-mismatch");
    assert_eq!(line["error"], Value::Null);
    assert_eq!(
        line["message"],
        format!(
            "tag-mismatch: named {other_tag} but magic {} is CPython {} ({})",
            python.magic, python.version, python.cache_tag
        )
    );
    assert_eq!(files["pkg/__pycache__/u.pyc"]["status"], "tag-mismatch");
    assert_eq!(summary["counts"]["tag-mismatch"], 2);
    assert_eq!(code, 1);
}

#[test]
fn a_zero_placeholder_magic_is_an_incomplete_write_and_an_unknown_one_is_unknown() {
    let tree = Tree::new();
    patch(&tree.path(&tree.cache("t")), 0, &[0, 0, 0, 0]);
    patch(&tree.path(&tree.cache("c")), 0, &[0x34, 0x12]);
    let (files, _, code) = check_json(tree.root(), &[]);
    let line = &files[&tree.cache("t")];
    assert_eq!(line["status"], "incomplete-write");
    assert_eq!(line["error"]["kind"], "placeholder-magic");
    assert_eq!(line["error"]["offset"], 0);
    assert_eq!(line["python"], Value::Null);
    let line = &files[&tree.cache("c")];
    assert_eq!(line["status"], "unknown-magic");
    assert_eq!(line["error"]["kind"], "unknown-magic");
    assert_eq!(
        line["message"],
        "unknown magic 0x0a0d1234 at byte 0 while reading magic"
    );
    assert_eq!(code, 1);
}

#[test]
#[cfg(unix)] // a dangling symbolic link
fn what_cannot_be_read_is_unreadable_and_does_not_stop_the_others() {
    let tree = Tree::new();
    let missing = tree.path("missing.pyc");
    let dangling = tree.path("pkg/dangling.pyc");
    std::os::unix::fs::symlink(tree.path("nowhere.pyc"), &dangling).unwrap();
    let output = pyc(&[
        "check",
        "--json",
        missing.to_str().unwrap(),
        dangling.to_str().unwrap(),
        tree.root().to_str().unwrap(),
    ]);
    let lines = json_lines(&output);
    assert_eq!(lines[0]["path"], missing.to_str().unwrap());
    assert_eq!(lines[0]["status"], "unreadable");
    assert_eq!(lines[0]["error"]["kind"], "io");
    assert_eq!(lines[0]["error"]["path"], missing.to_str().unwrap());
    assert_eq!(lines[1]["status"], "unreadable");
    let summary = lines.last().unwrap();
    // The walk skips the dangling link (it is not a file); the ten real files are checked.
    assert_eq!(summary["counts"]["unreadable"], 2);
    assert_eq!(summary["counts"]["ok"], 10);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn no_source_checks_structure_and_names_only() {
    let tree = Tree::new();
    touch(&tree.path("pkg/t.py"));
    fs::remove_file(tree.path("pkg/c.py")).unwrap();
    let cut = tree.path(&tree.cache("u"));
    let data = fs::read(&cut).unwrap();
    fs::write(&cut, &data[..data.len() - 3]).unwrap();
    let (files, summary, code) = check_json(tree.root(), &["--no-source"]);
    for (path, line) in &files {
        assert_eq!(line["source"], Value::Null, "{path}");
    }
    assert_eq!(files[&tree.cache("t")]["status"], "ok");
    assert_eq!(files[&tree.cache("c")]["status"], "ok");
    assert_eq!(files[&tree.cache("u")]["status"], "truncated");
    assert_eq!(summary["counts"]["ok"], 9);
    assert_eq!(code, 1);
}

#[test]
fn the_summary_closes_the_json_lines_without_a_path() {
    let tree = Tree::new();
    let output = pyc(&["check", "--json", tree.root().to_str().unwrap()]);
    let lines = json_lines(&output);
    let (summary, files) = lines.split_last().unwrap();
    assert!(summary.get("path").is_none());
    assert!(files.iter().all(|line| line.get("path").is_some()));
    let counts = summary["counts"].as_object().unwrap();
    let names: Vec<&str> = counts.keys().map(String::as_str).collect();
    let mut expected = vec![
        "ok",
        "stale",
        "orphan",
        "truncated",
        "corrupt",
        "unknown-magic",
        "tag-mismatch",
        "incomplete-write",
        "changing",
        "unreadable",
    ];
    expected.sort();
    let mut names = names;
    names.sort();
    assert_eq!(names, expected);
    let total: u64 = counts.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total, files.len() as u64);
    assert_eq!(summary["files"], files.len());
    let bytes: u64 = files.iter().map(|l| l["bytes"].as_u64().unwrap()).sum();
    assert_eq!(summary["bytes"], bytes);
    assert!(summary["seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn the_default_output_lists_problems_only_then_a_summary() {
    let tree = Tree::new();
    touch(&tree.path("pkg/t.py"));
    let output = pyc(&["check", tree.root().to_str().unwrap()]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    for line in &lines[..3] {
        let (path, message) = line.split_once(": ").unwrap();
        assert!(path.contains("/pkg/__pycache__/t."), "{line}");
        assert!(message.starts_with("stale: source "), "{line}");
    }
    assert!(lines[3].starts_with("10 files, "), "{text}");
    assert!(lines[3].ends_with(": 7 ok, 3 stale"), "{text}");
    assert_eq!(output.status.code(), Some(1));
}

/// A directory of `count` legacy caches named `fNNN.pyc`, written in scrambled order, every seventh
/// cut short; returns it and the names in the order the walk must give them (sorted by name).
fn many_caches(count: usize) -> (tempfile::TempDir, Vec<String>) {
    let dir = support::tempdir();
    let source = dir.path().join("m.py");
    write(&source, "x = 1\n");
    let written = compile(&[(&source, "", 0, "TIMESTAMP")]);
    let whole = fs::read(&written[0]).unwrap();
    fs::remove_dir_all(dir.path().join("__pycache__")).unwrap();
    fs::remove_file(&source).unwrap();
    for i in (0..count).map(|i| (i * 37) % count) {
        let data = if i % 7 == 0 {
            &whole[..whole.len() - 1]
        } else {
            &whole[..]
        };
        fs::write(dir.path().join(format!("f{i:03}.pyc")), data).unwrap();
    }
    let names = (0..count).map(|i| format!("f{i:03}.pyc")).collect();
    (dir, names)
}

#[test]
fn lines_come_in_walk_order_whatever_the_number_of_threads() {
    // Many more files than a thread takes at once, so that the threads finish out of order.
    let (dir, names) = many_caches(300);
    let root = dir.path().to_str().unwrap();
    for threads in ["1", "2", "3", "8"] {
        let output = pyc(&["check", "--json", "-j", threads, root]);
        let lines = json_lines(&output);
        let (files, summary) = lines.split_at(lines.len() - 1);
        let walked: Vec<String> = files
            .iter()
            .map(|line| {
                line["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(walked, names, "-j {threads}");
        for (line, i) in files.iter().zip(0..) {
            let expected = if i % 7 == 0 { "truncated" } else { "ok" };
            assert_eq!(line["status"], expected, "-j {threads}: {line}");
        }
        assert_eq!(summary[0]["counts"]["truncated"], 43, "-j {threads}");
        let output = pyc(&["check", "-j", threads, root]);
        let text = stdout(&output);
        let problems: Vec<&str> = text
            .lines()
            .filter(|line| line.contains(": truncated"))
            .collect();
        let expected: Vec<String> = (0..300)
            .step_by(7)
            .map(|i| format!("{root}/f{i:03}.pyc: truncated"))
            .collect();
        assert_eq!(problems.len(), expected.len(), "-j {threads}: {text}");
        for (line, start) in problems.iter().zip(&expected) {
            assert!(
                line.starts_with(start.as_str()),
                "-j {threads}: {line} should start {start}"
            );
        }
    }
}

#[test]
fn a_reader_that_stops_reading_ends_the_run_quietly() {
    use std::io::BufRead;
    // `pyc check --json DIR | head -n 1`: the closed pipe stops the run with status 1 and no error.
    let (dir, _) = many_caches(2000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(["check", "--json", "-j", "2", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("f000.pyc"), "{first}");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

/// The read system calls a process has made so far, from /proc.
#[cfg(target_os = "linux")]
fn reads_made(pid: u32) -> u64 {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    let line = io.lines().find(|line| line.starts_with("syscr:")).unwrap();
    line["syscr:".len()..].trim().parse().unwrap()
}

#[test]
#[cfg(target_os = "linux")]
fn a_reader_that_pauses_pauses_the_checking() {
    use std::io::Read;
    // `pyc check --json DIR | less`, the pager not reading yet: once the pipe is full, the threads
    // stop checking (a few batches ahead at most) instead of queueing a report for every file.
    let (dir, names) = many_caches(5000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(["check", "--json", "-j", "2", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut last, mut still) = (0, 0);
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(50));
        let reads = reads_made(child.id());
        still = if reads == last { still + 1 } else { 0 };
        last = reads;
        if still == 6 {
            break;
        }
    }
    assert_eq!(
        still, 6,
        "pyc check kept reading with nobody reading its output"
    );
    // Each file is one read; about 250 lines fill the pipe, and a few batches of 32 wait besides.
    assert!(last < 2000, "{last} reads with the output unread");
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert_eq!(text.lines().count(), names.len() + 1);
}

/// The file names of `--json` lines, in order, relative to `root`.
fn checked_names(output: &Output, root: &Path) -> Vec<String> {
    let lines = json_lines(output);
    lines[..lines.len() - 1]
        .iter()
        .map(|line| relative(root, line["path"].as_str().unwrap()))
        .collect()
}

#[test]
fn with_links_followed_a_directory_reached_twice_is_walked_once() {
    // A virtualenv's lib64 -> lib, a directory linking back to its parent (/usr/bin/X11 -> .), and
    // the same directory named twice: each file once, under the first path that reaches it, and
    // no loop reported as a problem.
    let tree = Tree::new();
    let root = tree.root();
    std::os::unix::fs::symlink("pkg", root.join("pkg64")).unwrap();
    std::os::unix::fs::symlink(".", root.join("pkg/__pycache__/again")).unwrap();
    let pkg = root.join("pkg");
    let args = ["check", "--json", "--no-source", "-L"];
    let output = pyc(&[&args[..], &[root.to_str().unwrap(), pkg.to_str().unwrap()]].concat());
    let names = checked_names(&output, root);
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(
        names.iter().all(|name| name.starts_with("pkg/")),
        "{names:?}"
    );
    assert!(
        names.iter().all(|name| !name.contains("again")),
        "{names:?}"
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn hard_links_are_caches_of_their_own_names_even_with_links_followed() {
    // compileall --hardlink-dupes links the optimization levels' caches when they are the same
    // bytes, as distributions ship them: three names, one inode, and each name is a cache.
    let dir = support::tempdir();
    let source = dir.path().join("m.py");
    write(&source, "x = 1\n");
    let compiled = Command::new(support::python3().program)
        .args("-m compileall -q -o 0 -o 1 -o 2 --hardlink-dupes".split(' '))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(compiled.success());
    let cache = dir.path().join("__pycache__");
    let tag = support::python3().cache_tag;
    let first = fs::metadata(cache.join(format!("m.{tag}.pyc"))).unwrap();
    let linked = fs::metadata(cache.join(format!("m.{tag}.opt-2.pyc"))).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        first.ino(),
        linked.ino(),
        "compileall did not link the duplicates"
    );
    // A fourth name for the same inode, whose tag says another interpreter: a problem of its own.
    fs::hard_link(
        cache.join(format!("m.{tag}.pyc")),
        cache.join("m.cpython-38.pyc"),
    )
    .unwrap();
    for follow in [&[][..], &["-L"][..]] {
        let root = dir.path().to_str().unwrap();
        let output = pyc(&[&["check", "--json"][..], follow, &[root]].concat());
        let lines = json_lines(&output);
        let statuses: Vec<(String, String)> = lines[..lines.len() - 1]
            .iter()
            .map(|line| {
                let name = relative(dir.path(), line["path"].as_str().unwrap());
                (name, line["status"].as_str().unwrap().to_string())
            })
            .collect();
        let expected = [
            ("__pycache__/m.cpython-38.pyc".to_string(), "tag-mismatch"),
            (format!("__pycache__/m.{tag}.opt-1.pyc"), "ok"),
            (format!("__pycache__/m.{tag}.opt-2.pyc"), "ok"),
            (format!("__pycache__/m.{tag}.pyc"), "ok"),
        ];
        // In the walk's order: by name, byte by byte.
        let mut expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(name, status)| (name, status.to_string()))
            .collect();
        expected.sort();
        assert_eq!(statuses, expected, "{follow:?}");
        assert_eq!(output.status.code(), Some(1), "{follow:?}");
    }
}

#[test]
fn a_name_cannot_forge_lines_or_drive_the_terminal() {
    // A hostile tree names a cut file so that its problem line would read as an ok line and a
    // problem; another carries a terminal escape. Text lines show both names escaped, one line each;
    // JSON lines escape them as JSON does.
    let dir = support::tempdir();
    let forged = "a\nx.pyc: ok\nb.pyc";
    let escape = "e\u{1b}[2J.pyc";
    for name in [forged, escape] {
        fs::write(dir.path().join(name), b"abc").unwrap();
    }
    let root = dir.path().to_str().unwrap();
    let text = stdout(&pyc(&["check", root]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&format!("{root}/a\\nx.pyc: ok\\nb.pyc: truncated")),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&format!("{root}/e\\u{{1b}}[2J.pyc: truncated")),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "{text}");
    let output = pyc(&["check", "--json", root]);
    let names = checked_names(&output, dir.path());
    assert_eq!(names, [forged, escape]);
    // The other commands, given such names (a glob in that directory), say them escaped too.
    let named = dir.path().join(forged);
    for command in ["info", "dump", "dis"] {
        let output = pyc(&[command, named.to_str().unwrap()]);
        let said = format!(
            "{}{}",
            stdout(&output),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(said.contains("a\\nx.pyc: ok\\nb.pyc"), "{command}: {said}");
        assert!(!said.contains("\nx.pyc: ok"), "{command}: {said}");
    }
}

#[test]
fn exit_status_is_two_for_usage_errors() {
    for args in [
        &[][..],
        &["check"][..],
        &["check", "--bogus", "."][..],
        &["frobnicate"][..],
        &["dump", "--python", "three", "x.pyc"][..],
        &["info"][..],
    ] {
        let output = pyc(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
    let help = pyc(&["check", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help);
    assert!(text.contains("2  usage error"), "{text}");
    for status in ["incomplete-write", "tag-mismatch", "orphan", "stale"] {
        assert!(text.contains(status), "{status}");
    }
}

/// What python3 knows about a pyc header: its magic, flags, mtime as a UTC date, stored hash and the
/// source's hash.
fn python_header_facts(pyc: &Path, source: &Path) -> Value {
    let script = "import importlib.util, json, sys, time
data = open(sys.argv[1], 'rb').read()
flags = int.from_bytes(data[4:8], 'little')
mtime = int.from_bytes(data[8:12], 'little')
print(json.dumps({
    'magic': int.from_bytes(importlib.util.MAGIC_NUMBER[:2], 'little'),
    'flags': flags,
    'date': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(mtime)),
    'mtime': mtime,
    'size': int.from_bytes(data[12:16], 'little'),
    'stored': data[8:16].hex(),
    'hash': importlib.util.source_hash(open(sys.argv[2], 'rb').read()).hex(),
}))";
    let out = support::python_output_with(&support::python3(), script, [pyc, source]);
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn info_says_the_header_in_words_and_in_json() {
    let tree = Tree::new();
    let python = support::python3();
    let t = tree.path(&tree.cache("t"));
    let c = tree.path(&tree.cache("c"));
    let facts_t = python_header_facts(&t, &tree.path("pkg/t.py"));
    let facts_c = python_header_facts(&c, &tree.path("pkg/c.py"));

    let output = pyc(&["info", t.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains(&format!("magic:        {} (", python.magic)),
        "{text}"
    );
    assert!(
        text.contains(&format!("CPython {}", python.version)),
        "{text}"
    );
    assert!(text.contains("invalidation: timestamp"), "{text}");
    assert!(text.contains("invalidation: checked-hash"), "{text}");
    let date = facts_t["date"].as_str().unwrap();
    assert!(
        text.contains(&format!("source mtime: {date} ({})", facts_t["mtime"])),
        "{text}"
    );
    assert!(
        text.contains(&format!("source size:  {} bytes", facts_t["size"])),
        "{text}"
    );
    let hash = facts_c["hash"].as_str().unwrap();
    assert_eq!(
        facts_c["stored"], hash,
        "py_compile stored importlib's hash"
    );
    assert!(text.contains(&format!("source hash:  {hash}")), "{text}");

    let output = pyc(&["info", "--json", t.to_str().unwrap(), c.to_str().unwrap()]);
    let lines = json_lines(&output);
    assert_eq!(lines[0]["path"], t.to_str().unwrap());
    assert_eq!(lines[0]["error"], Value::Null);
    let header = &lines[0]["header"];
    assert_eq!(header["magic"], facts_t["magic"]);
    assert_eq!(header["flags"], facts_t["flags"]);
    assert_eq!(header["mtime"], facts_t["mtime"]);
    assert_eq!(header["source_size"], facts_t["size"]);
    assert_eq!(header["python"], python.version.as_str());
    assert_eq!(lines[1]["header"]["invalidation"], "checked-hash");
    assert_eq!(lines[1]["header"]["flags"], 3);
    assert_eq!(lines[1]["header"]["hash"], hash);

    patch(&t, 0, &[0, 0, 0, 0]);
    let output = pyc(&["info", "--json", t.to_str().unwrap()]);
    let lines = json_lines(&output);
    assert_eq!(lines[0]["header"], Value::Null);
    assert_eq!(lines[0]["error"]["kind"], "placeholder-magic");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn dump_json_is_the_librarys_json_form_even_when_decoding_fails() {
    let tree = Tree::new();
    let path = tree.path(&tree.cache("t"));
    let data = fs::read(&path).unwrap();
    let pyc_file = pycmarshal::parse_pyc(&data).unwrap();
    let expected = support::json_document(Some(&pyc_file.header), pyc_file.objects.root(), None);
    let output = pyc(&["dump", "--json", path.to_str().unwrap()]);
    assert_eq!(stdout(&output), format!("{expected}\n"));
    assert_eq!(output.status.code(), Some(0));

    let cut = tree.path("cut.pyc");
    fs::write(&cut, &data[..data.len() - 5]).unwrap();
    let output = pyc(&["dump", "--json", cut.to_str().unwrap()]);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["root"], Value::Null);
    assert_eq!(document["error"]["kind"], "truncated");
    assert_eq!(document["header"]["magic"], support::python3().magic);
    assert_eq!(output.status.code(), Some(1));

    let output = pyc(&["dump", "--json", "--tolerant", cut.to_str().unwrap()]);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["root"]["type"], "code");
    assert_eq!(document["root"]["incomplete"], true);
    assert_eq!(document["error"]["kind"], "truncated");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn dump_shows_code_objects_field_by_field_and_the_fault_when_tolerant() {
    let tree = Tree::new();
    let path = tree.path(&tree.cache("t"));
    let output = pyc(&["dump", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let source = tree.path("pkg/t.py");
    assert!(
        text.contains(&format!(
            "<code object <module>, file '{}', line 1>",
            source.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("\n    co_names: ('x', 'name', 'f')\n"),
        "{text}"
    );
    assert!(text.contains("\n        <code object f, file "), "{text}");
    assert!(text.contains("\n            co_argcount: 1\n"), "{text}");

    let output = pyc(&["dump", "--offsets", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|line| line.trim_start().starts_with("16  <code object <module>")),
        "{text}"
    );

    let data = fs::read(&path).unwrap();
    let cut = tree.path("cut.pyc");
    fs::write(&cut, &data[..data.len() - 5]).unwrap();
    let output = pyc(&["dump", cut.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.starts_with(&format!("{}: truncated at byte ", cut.display())),
        "{error}"
    );
    let output = pyc(&["dump", "--tolerant", cut.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("<incomplete>"), "{text}");
    assert!(text.contains("co_names: ('x', 'name', 'f')"), "{text}");
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("truncated at byte")
    );
}

#[test]
fn dump_of_raw_marshal_data_reads_like_python_repr() {
    let values = [
        "None",
        "(1, 'a')",
        "[1, -2, 2**100, -2**65]",
        "(1.5, -0.0, 1e+300, float('inf'))",
        "(1j, complex(1.5, -2), complex(-0.0, 1))",
        "\"it's\"",
        "'say \"hi\"'",
        "'tab\\t\\x00 é中'",
        "b'\\x00\\xff\\'x'",
        "{'a': 1}",
        "frozenset({3})",
        "set()",
        "frozenset()",
        "(True, False, Ellipsis, StopIteration)",
        "((),)",
    ];
    let dir = support::tempdir();
    let script = "import marshal, sys
for i, text in enumerate(sys.argv[2:]):
    value = eval(text)
    open('%s/%d.bin' % (sys.argv[1], i), 'wb').write(marshal.dumps(value))
    print(repr(value))";
    let args = std::iter::once(dir.path().as_os_str()).chain(values.iter().map(|v| v.as_ref()));
    let reprs = String::from_utf8(support::python_output_with(
        &support::python3(),
        script,
        args,
    ))
    .unwrap();
    for (i, repr) in reprs.lines().enumerate() {
        let file = dir.path().join(format!("{i}.bin"));
        let output = pyc(&["dump", "--no-header", file.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{repr}");
        assert_eq!(stdout(&output), format!("{repr}\n"), "{}", values[i]);
    }
}

#[test]
fn dump_python_reads_a_file_whose_magic_is_unknown_as_that_version() {
    let tree = Tree::new();
    let path = tree.path(&tree.cache("t"));
    patch(&path, 0, &[0x34, 0x12]);
    let output = pyc(&["dump", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let version = support::python3().version;
    let output = pyc(&["dump", "--python", &version, path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("unknown magic read as this version"),
        "{text}"
    );
    assert!(text.contains("co_names: ('x', 'name', 'f')"), "{text}");
}

#[test]
fn dump_no_header_infers_the_version_of_a_stripped_body() {
    let tree = Tree::new();
    let path = tree.path(&tree.cache("t"));
    let data = std::fs::read(&path).unwrap();
    let body = tree.root().join("body.bin");
    std::fs::write(&body, &data[16..]).unwrap();
    let output = pyc(&["dump", "--no-header", body.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let python = support::python3().python();
    let reading = pycmarshal::tools::infer::READINGS
        .iter()
        .find(|r| r.covers(python))
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("inferred: {}", reading.versions())),
        "{stderr}"
    );
    let whole = stdout(&pyc(&["dump", path.to_str().unwrap()]));
    assert!(whole.ends_with(&stdout(&output)), "{whole}");
}

#[test]
fn dump_infer_reads_a_file_whose_magic_is_unknown_from_its_structure() {
    let tree = Tree::new();
    let path = tree.path(&tree.cache("t"));
    patch(&path, 0, &[0x34, 0x12]);
    let output = pyc(&["dump", "--infer", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("marshal data from byte 16"), "{stderr}");
    assert!(stdout(&output).contains("co_names: ('x', 'name', 'f')"));
}

#[test]
fn dropbox_files_are_decrypted_then_checked_and_dumped() {
    let Some(corpus) = support::corpus("dropbox_files_are_decrypted_then_checked_and_dumped")
    else {
        return;
    };
    let dir = corpus.join("pyc/dropbox2.5");
    let file = support::read_dir_sorted(&dir).into_iter().next().unwrap();
    let data = fs::read(&file).unwrap();
    let plain = pycmarshal::read::dialect::dropbox::decrypt(&data).unwrap();
    let decoded = pycmarshal::read::dialect::dropbox::OPTIONS
        .parse_pyc(&plain)
        .unwrap();
    let expected = support::json_document(Some(&decoded.header), decoded.objects.root(), None);

    let (files, _, code) = check_json(&dir, &["--no-source"]);
    assert_eq!(statuses(&files).values().collect::<Vec<_>>(), ["ok"]);
    assert_eq!(code, 0);
    let output = pyc(&["dump", "--json", file.to_str().unwrap()]);
    assert_eq!(stdout(&output), format!("{expected}\n"));
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("offsets are in the decrypted data"),
        "{stderr}"
    );

    // Cut inside an encrypted body: truncated, at an offset in the file.
    let tree = support::tempdir();
    let cut = tree.path().join("cut.pyc");
    fs::write(&cut, &data[..data.len() / 2]).unwrap();
    let (files, _, code) = check_json(tree.path(), &["--no-source"]);
    assert_eq!(files["cut.pyc"]["status"], "truncated");
    assert_eq!(files["cut.pyc"]["error"]["kind"], "truncated");
    let offset = files["cut.pyc"]["error"]["offset"].as_u64().unwrap();
    assert!(offset < data.len() as u64 / 2, "{offset}");
    assert_eq!(code, 1);
    let output = pyc(&["dump", "--json", cut.to_str().unwrap()]);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["error"]["kind"], "truncated");
    assert_eq!(document["header"]["magic"], 62135);
    assert_eq!(output.status.code(), Some(1));
}

/// `(offset, opname, arg)` of every instruction line of a `dis`-style listing, code object by code
/// object (a `Disassembly of` line starts each; `dis.dis` gives the first none).
fn listed_instructions(text: &str) -> Vec<Vec<(u32, String, Option<u32>)>> {
    let mut codes: Vec<Vec<(u32, String, Option<u32>)>> = vec![Vec::new()];
    for line in text.lines() {
        if line.starts_with("Disassembly of") {
            if codes.last().is_some_and(|c| !c.is_empty()) {
                codes.push(Vec::new());
            }
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().filter(|w| *w != ">>").collect();
        // [line] offset OPNAME [arg [(...)]]: the offset is the first number before an upper-case word.
        let Some(at) = words.iter().position(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        }) else {
            continue;
        };
        let (Some(offset), Some(code)) = (
            at.checked_sub(1).and_then(|i| words[i].parse().ok()),
            codes.last_mut(),
        ) else {
            continue;
        };
        let arg = words.get(at + 1).and_then(|w| w.parse().ok());
        code.push((offset, words[at].to_string(), arg));
    }
    codes
}

#[test]
fn dis_lists_what_pythons_own_dis_lists_and_a_fault_last() {
    let dir = support::tempdir();
    let source = dir.path().join("m.py");
    write(
        &source,
        "import os\n\ndef f(n, *rest):\n    try:\n        return [i * 2 for i in range(n) if i not in rest]\n    except ValueError as e:\n        return str(e)\n\nclass C:\n    def g(self):\n        return f(3) or os.sep\n",
    );
    let pyc_path = compile(&[(&source, "", 0, "TIMESTAMP")]).remove(0);
    let pyc_arg = pyc_path.to_str().unwrap();
    let python = support::python3();
    let script = "import dis, marshal, sys
data = open(sys.argv[1], 'rb').read()
dis.dis(marshal.loads(data[16:]))";
    let expected =
        String::from_utf8(support::python_output_with(&python, script, [pyc_arg])).unwrap();
    let out = pyc(&["dis", pyc_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = listed_instructions(&stdout(&out));
    let theirs = listed_instructions(&expected);
    assert!(
        ours.len() >= 4 && ours.iter().all(|c| !c.is_empty()),
        "{ours:?}"
    );
    assert_eq!(ours, theirs);

    // --json: one object, its instructions at dis.get_instructions' offsets.
    let out = pyc(&["dis", "--json", pyc_arg]);
    assert_eq!(out.status.code(), Some(0));
    let objects = json_lines(&out);
    let object = &objects[0];
    let keys: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "error", "header", "opcodes", "path"]);
    assert_eq!(object["opcodes"], format!("cpython-{}", python.version));
    let offsets: Vec<Vec<u64>> = object["code"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["instructions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["offset"].as_u64().unwrap())
                .collect()
        })
        .collect();
    let want: Vec<Vec<u64>> = theirs
        .iter()
        .map(|c| c.iter().map(|i| u64::from(i.0)).collect())
        .collect();
    assert_eq!(offsets, want);

    // An undefined opcode in f: its code object shows up to the fault, the fault goes to stderr, exit 1.
    let data = fs::read(&pyc_path).unwrap();
    let first_f = ours[1][1].0 as usize; // f's second instruction
    let script = "import marshal, sys
data = open(sys.argv[1], 'rb').read()
f = [c for c in marshal.loads(data[16:]).co_consts if hasattr(c, 'co_code')][0]
print(data.find(f.co_code))";
    let start: usize = String::from_utf8(support::python_output_with(&python, script, [pyc_arg]))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut bad = data.clone();
    bad[start + first_f] = 255;
    let bad_path = dir.path().join("bad.pyc");
    fs::write(&bad_path, &bad).unwrap();
    let out = pyc(&["dis", bad_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let shown = listed_instructions(&stdout(&out));
    assert_eq!(shown.len(), 2, "the module, then f up to the fault");
    assert_eq!(shown[1], ours[1][..1]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = start + first_f;
    assert!(
        stderr.contains(&format!(
            "undefined opcode 255 at byte {at} while reading co_consts["
        )),
        "{stderr}"
    );
    let out = pyc(&[
        "dis",
        "--json",
        bad_path.to_str().unwrap(),
        "/nonexistent/x.pyc",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let objects = json_lines(&out);
    assert_eq!(objects[0]["error"]["kind"], "undefined-opcode");
    assert_eq!(objects[0]["error"]["offset"], at);
    assert_eq!(objects[1]["error"]["kind"], "io");
    assert_eq!(objects[1]["code"], serde_json::json!([]));
}
