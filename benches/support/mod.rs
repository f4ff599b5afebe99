//! What the benches share: the standard library of the benchmarked interpreter, compiled once.
#![allow(dead_code)] // each bench uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod skim;

/// The interpreter whose standard library the benches read: `$PYCMARSHAL_PYTHON` (the first, if it
/// lists several), default python3.
pub fn python() -> String {
    pythons().swap_remove(0)
}

/// The interpreters `$PYCMARSHAL_PYTHON` lists, separated by spaces (default python3): the benches
/// that compare versions read each one's standard library in turn.
pub fn pythons() -> Vec<String> {
    let listed = std::env::var("PYCMARSHAL_PYTHON").unwrap_or_default();
    let mut out: Vec<String> = listed.split_whitespace().map(str::to_string).collect();
    if out.is_empty() {
        out.push("python3".to_string());
    }
    out
}

/// What `python -c script` prints, trimmed.
pub fn python_says(python: &str, script: &str) -> String {
    let out = Command::new(python)
        .args(["-c", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(out.status.success(), "{python} -c {script:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Compiles the standard library once (a `done` marker says it finished) and returns its folder.
pub fn compiled_stdlib(python: &str) -> PathBuf {
    let cache_tag = python_says(python, "import sys; print(sys.implementation.cache_tag)");
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pycmarshal-fixtures");
    let dir = root.join(format!("bench-stdlib-{cache_tag}"));
    if dir.join("done").exists() {
        return dir;
    }
    let stdlib = python_says(
        python,
        "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
    );
    let work = root.join(format!(
        "bench-stdlib-{cache_tag}.tmp{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    eprintln!("compiling {stdlib} into {} (once)", dir.display());
    // The prefix goes in the environment, not as `-X pycache_prefix`: compileall's workers are
    // forkserver children from 3.12 on, and do not inherit `-X` options (they wrote nothing).
    let status = Command::new(python)
        .env("PYTHONPYCACHEPREFIX", &work)
        .args(["-m", "compileall", "-q", "-j", "0"])
        .args(["-x", "site-packages|lib2to3/tests/data|bad"])
        .arg(&stdlib)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    // compileall exits 1 when some test file fails to compile on purpose; what it wrote is fine.
    assert!(status.code().is_some(), "compileall was killed");
    std::fs::write(work.join("done"), "").unwrap();
    if std::fs::rename(&work, &dir).is_err() {
        // Another run finished first; use its copy.
        let _ = std::fs::remove_dir_all(&work);
    }
    dir
}

/// Every `.pyc` under `dir`, sorted.
pub fn pyc_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "pyc") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
