//! What the integration tests share: where the oracles are (python interpreters, the shared corpus),
//! fixtures they build once (compiled standard libraries), and running the Python helper.
#![allow(dead_code)] // each test binary uses part of this module

pub mod counting;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared multi-version corpus: `$PYCMARSHAL_CORPUS`, default `../shared/corpus`. `None` (with a
/// message saying the check is skipped) when it is absent.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PYCMARSHAL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.join("pyc").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: no corpus at {} (set PYCMARSHAL_CORPUS)",
            dir.display()
        );
        None
    }
}

/// True for files whose payload is not CPython marshal (GraalPy, RustPython, Dropbox): another part of
/// the crate reads them, and its own tests hold it to them.
pub fn foreign(header: &pycmarshal::Header) -> bool {
    matches!(
        header.python.implementation,
        pycmarshal::Implementation::GraalPy
            | pycmarshal::Implementation::RustPython
            | pycmarshal::Implementation::Dropbox
    )
}

/// A sort key that puts corpus folders in version order: `1.5` before `1.10`, CPython before the other
/// implementations (`pypy3.9`, `graal3.10`).
pub fn version_order(label: &str) -> (bool, String, Vec<u32>) {
    let digits = label.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let prefix = label[..label.len() - digits.len()].to_string();
    let numbers = digits.split('.').filter_map(|n| n.parse().ok()).collect();
    (!prefix.is_empty(), prefix, numbers)
}

/// Every `.pyc` under the corpus, with its folder name (the version label), sorted.
pub fn corpus_files(corpus: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for dir in read_dir_sorted(&corpus.join("pyc")) {
        let label = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in read_dir_sorted(&dir) {
            files.push((label.clone(), file));
        }
    }
    files
}

pub fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

/// Every file under `dir` whose name ends with `suffix`, recursively, sorted.
pub fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for path in read_dir_sorted(&dir) {
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A Python interpreter the tests can run.
#[derive(Clone, Debug)]
pub struct Interpreter {
    pub program: PathBuf,
    /// `3.11`
    pub version: String,
    /// `cpython` or `pypy`
    pub implementation: String,
    pub cache_tag: String,
    pub magic: u16,
    /// `marshal.version`: the newest format its `marshal.dumps` writes.
    pub marshal_version: u8,
}

impl Interpreter {
    pub fn python(&self) -> pycmarshal::Python {
        let (major, minor) = self.version.split_once('.').unwrap();
        let implementation = match self.implementation.as_str() {
            "pypy" => pycmarshal::Implementation::PyPy,
            _ => pycmarshal::Implementation::CPython,
        };
        pycmarshal::Python {
            implementation,
            major: major.parse().unwrap(),
            minor: minor.parse().unwrap(),
        }
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.implementation, self.version)
    }
}

/// Asks `program` for its facts through the helper; `None` if it does not run.
pub fn interpreter(program: &Path) -> Option<Interpreter> {
    let out = Command::new(program)
        .arg(oracle_script())
        .arg("info")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Interpreter {
        program: program.to_path_buf(),
        version: info["version"].as_str()?.to_string(),
        implementation: info["implementation"].as_str()?.to_string(),
        cache_tag: info["cache_tag"].as_str()?.to_string(),
        magic: info["magic"].as_u64()? as u16,
        marshal_version: info["marshal_version"].as_u64()? as u8,
    })
}

/// The machine's `python3`. The tests cannot do without it: it is their main oracle.
pub fn python3() -> Interpreter {
    interpreter(Path::new("python3")).expect("python3 must be on PATH: it is the tests' oracle")
}

/// The interpreters the tests use as oracles besides python3, by name: CPython `X.Y` from pyenv (any
/// patch release under `$(pyenv root)/versions`), `pypy3` from `PATH`. `None`, with a message saying the
/// test skips it, when it is not there.
pub fn oracle_interpreter(name: &str, test: &str) -> Option<Interpreter> {
    let program = match name {
        "pypy3" => Some(PathBuf::from("pypy3")),
        minor => pyenv_versions()
            .into_iter()
            .find(|dir| {
                let file = dir.file_name().unwrap().to_string_lossy().into_owned();
                file.strip_prefix(minor).is_some_and(|rest| {
                    rest.starts_with('.') && !rest.contains(['a', 'b', 'r', '-'])
                })
            })
            .map(|dir| dir.join("bin/python")),
    };
    let found = program.as_deref().and_then(interpreter);
    if found.is_none() {
        eprintln!("SKIPPED {test}: no {name} interpreter (pyenv or PATH)");
    }
    found
}

/// The folders of the interpreters pyenv installed, if any.
fn pyenv_versions() -> Vec<PathBuf> {
    let root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        .or_else(|| std::env::var_os("PYENV_ROOT").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")));
    match root.map(|root| root.join("versions")) {
        Some(dir) if dir.is_dir() => read_dir_sorted(&dir),
        _ => Vec::new(),
    }
}

/// A sample of about `count` files of `python`'s standard library compiled by its own compileall in
/// every way it can (see `oracle.py compile`), once per machine. Returns (variant, pyc) pairs: variants
/// are `timestamp-0`..`timestamp-2`, `checked-hash-0`, `unchecked-hash-0` (3.7+), `unicode-0` (2.x -U).
pub fn compiled_sample(python: &Interpreter, count: usize) -> Vec<(String, PathBuf)> {
    let name = format!("sample-{}-{}-{count}", python.cache_tag, python.magic);
    let dir = fixture_once(&name, |work| {
        let work_arg = work.to_string_lossy().into_owned();
        let count_arg = count.to_string();
        oracle(
            python,
            &["compile", "--out", &work_arg, "--count", &count_arg],
        );
    });
    let mut files = Vec::new();
    for variant in read_dir_sorted(&dir).into_iter().filter(|p| p.is_dir()) {
        let label = variant.file_name().unwrap().to_string_lossy().into_owned();
        for suffix in [".pyc", ".pyo"] {
            files.extend(
                files_under(&variant, suffix)
                    .into_iter()
                    .map(|path| (label.clone(), path)),
            );
        }
    }
    files
}

pub fn oracle_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/oracle.py")
}

/// Runs the helper with `python`; panics with its output if it fails. Returns its stdout.
pub fn oracle(python: &Interpreter, args: &[&str]) -> String {
    let out = Command::new(&python.program)
        .arg(oracle_script())
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "oracle.py {args:?} with {} failed:\n{stdout}\n{}",
        python.label(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Runs `script` with `python` and returns what it wrote to stdout.
pub fn python_output(python: &Interpreter, script: &str) -> Vec<u8> {
    python_output_with(python, script, [""; 0])
}

/// Runs `script` with `python` and `args` (its `sys.argv[1:]`); panics with its stderr if it fails.
/// Returns what it wrote to stdout.
pub fn python_output_with<S: AsRef<std::ffi::OsStr>>(
    python: &Interpreter,
    script: &str,
    args: impl IntoIterator<Item = S>,
) -> Vec<u8> {
    let out = Command::new(&python.program)
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        python.label(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The fixture folder `name`, built by `build` into a scratch folder the first time and renamed into
/// place with a `done` marker, so an interrupted build is never used and parallel tests, in one
/// process or several, each build into a scratch folder of their own and keep one complete copy.
pub fn fixture_once(name: &str, build: impl FnOnce(&Path)) -> PathBuf {
    static SCRATCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = fixture_root().join(name);
    if !dir.join("done").exists() {
        let n = SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let work = fixture_root().join(format!("{name}.tmp{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        build(&work);
        std::fs::write(work.join("done"), "").unwrap();
        if std::fs::rename(&work, &dir).is_err() {
            // Another test process finished first; use its copy.
            let _ = std::fs::remove_dir_all(&work);
        }
    }
    dir
}

/// Where fixtures built once per machine live: inside the target directory, wherever
/// `CARGO_TARGET_DIR` or `--target-dir` put it (cargo names its scratch folder for integration tests).
pub fn fixture_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pycmarshal-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The standard library of `python` compiled by its own compileall into a fixture folder, once: the
/// given invalidation mode, optimization levels 0, 1 and 2. Returns every `.pyc` written. Needs 3.9+
/// (`compileall -o`); [`compiled_sample`] covers every interpreter.
pub fn compiled_stdlib(python: &Interpreter, mode: &str) -> Vec<PathBuf> {
    let name = format!("stdlib-{}-{}-{mode}", python.cache_tag, python.magic);
    let dir = fixture_once(&name, |work| {
        let script = "import sys, sysconfig; print(sysconfig.get_paths()['stdlib'])";
        let out = Command::new(&python.program)
            .args(["-c", script])
            .output()
            .unwrap();
        let stdlib = String::from_utf8(out.stdout).unwrap().trim().to_string();
        // The environment variable rather than `-X pycache_prefix`: 3.12+ compileall runs its workers
        // from a forkserver, which does not pass -X options on, so they would write nothing.
        let status = Command::new(&python.program)
            .env("PYTHONPYCACHEPREFIX", work)
            .args([
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                "-o",
                "0",
                "-o",
                "1",
                "-o",
                "2",
            ])
            .args([
                "--invalidation-mode",
                mode,
                "-x",
                "site-packages|lib2to3/tests/data|bad",
            ])
            .arg(&stdlib)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        // compileall exits 1 when some test file fails to compile on purpose; what it wrote is fine.
        assert!(status.code().is_some(), "compileall was killed");
    });
    let files = files_under(&dir, ".pyc");
    assert!(
        files.len() > 100,
        "{}: only {} pyc files",
        dir.display(),
        files.len()
    );
    files
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Bytes in lowercase hexadecimal, for Python's `bytes.fromhex`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Parses every case of `dir/inputs.txt` (written by the helper) as marshal data of `python`, writes
/// pycmarshal's JSON documents to `dir/actual.jsonl`, and has the helper compare. Returns its summary.
pub fn differential(python: &Interpreter, dir: &Path) -> String {
    let inputs = std::fs::read_to_string(dir.join("inputs.txt")).unwrap();
    let mut actual = String::new();
    let options = pycmarshal::Options::new().python(python.python());
    for line in inputs.lines() {
        let (_version, hex) = line.split_once(' ').unwrap();
        let data = unhex(hex);
        let partial = options.parse_marshal_tolerant(&data);
        actual.push_str(&json_document(
            None,
            partial.objects.root(),
            partial.error.as_ref(),
        ));
        actual.push('\n');
    }
    std::fs::write(dir.join("actual.jsonl"), actual).unwrap();
    let out = Command::new(&python.program)
        .arg(oracle_script())
        .arg("compare")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}: pycmarshal disagrees with {}:\n{stdout}{}",
        dir.display(),
        python.label(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A Markdown table with right-aligned numbers; the first row is the heading.
pub fn markdown_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |row: &[String; N]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut out = Vec::new();
    if let Some((head, body)) = rows.split_first() {
        out.push(line(head));
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| match i {
                0 => "-".repeat(w + 2),
                _ => format!("{}:", "-".repeat(w + 1)),
            })
            .collect();
        out.push(format!("|{}|", rule.join("|")));
        out.extend(body.iter().map(line));
    }
    out.join("\n")
}

/// The JSON form of a header, root and error, as a string.
pub fn json_document(
    header: Option<&pycmarshal::Header>,
    root: Option<pycmarshal::Object<'_, '_>>,
    error: Option<&pycmarshal::Error>,
) -> String {
    let mut out = String::new();
    pycmarshal::tools::json::write_document(&mut out, header, root, error).unwrap();
    out
}
