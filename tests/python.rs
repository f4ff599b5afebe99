//! The Python package as a user gets it: the wheel built with maturin (`maturin build --release`, once
//! per run), installed into a fresh virtualenv of each pyenv interpreter 3.8 to 3.13, where its pytest
//! suite (`python/tests/`) runs: every file of that interpreter's compiled stdlib against its own
//! `marshal.loads`, the shared corpus against the oracles the Rust tests use, errors, values, `check()`
//! against `pyc check --json`, the console script. Each test prints what its suite compared.
//!
//! Needs maturin for python3 (`.ci/setup` installs it), and PyPI or pip's cache for pytest (and xdis,
//! installed beside python3's own version only, where the xdis comparison runs). What is missing is
//! skipped with a message; pytest's own skips are listed in its summary.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The wheel, built once for all the tests of this run; `None` (said once) when it cannot be built.
fn wheel() -> Option<&'static Path> {
    static WHEEL: OnceLock<Option<PathBuf>> = OnceLock::new();
    WHEEL.get_or_init(build_wheel).as_deref()
}

fn build_wheel() -> Option<PathBuf> {
    let python = support::python3();
    let probe = Command::new(&python.program)
        .args(["-m", "maturin", "--version"])
        .output();
    if !probe.is_ok_and(|out| out.status.success()) {
        eprintln!("SKIPPED python package: python3 has no maturin (.ci/setup installs it)");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Its own target directory: this run's cargo holds the lock on the one the tests were built in.
    let target = support::fixture_root().join("python-target");
    let out = support::fixture_root().join(format!("wheels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let clock = std::time::Instant::now();
    let status = Command::new(&python.program)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .args(["-m", "maturin", "build", "--release", "--quiet", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "maturin build failed");
    let wheels = support::files_under(&out, ".whl");
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let name = wheels[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.contains("-cp38-abi3-"),
        "one abi3 wheel for 3.8+: {name}"
    );
    println!("built {name} in {:.1?}", clock.elapsed());
    Some(wheels[0].clone())
}

/// Builds a fresh virtualenv of pyenv's `version`, installs the wheel and pytest there, and runs the
/// package's tests.
fn package_tests_pass_on(version: &str) {
    let test = format!("python package on {version}");
    let Some(python) = support::oracle_interpreter(version, &test) else {
        return;
    };
    let Some(wheel) = wheel() else {
        return;
    };
    let clock = std::time::Instant::now();
    let venv = support::fixture_root().join(format!("venv-{version}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new(&python.program)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success(), "{test}: venv");
    let venv_python = venv.join("bin/python");
    let mut packages = vec![wheel.to_string_lossy().into_owned(), "pytest".into()];
    if python.version == support::python3().version {
        packages.push("xdis".into());
    }
    let installed = Command::new(&venv_python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&packages)
        .output()
        .unwrap();
    if !installed.status.success() {
        eprintln!(
            "SKIPPED {test}: pip could not install {packages:?}: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
        return;
    }
    let installing = clock.elapsed();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pytest = Command::new(&venv_python);
    pytest
        .current_dir(root)
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"])
        .arg(root.join("python/tests"));
    if let Some(corpus) = support::corpus(&test) {
        pytest.env("PYCMARSHAL_CORPUS", corpus);
    }
    let out = pytest.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{test}:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The suite's closing lines: what it compared, what it skipped, the tally.
    let tail: Vec<&str> = text
        .lines()
        .skip_while(|line| {
            !line.contains("what was compared") && !line.contains("short test summary")
        })
        .collect();
    println!(
        "{test} (venv and install {installing:.1?}, tests {:.1?}):\n  {}",
        clock.elapsed() - installing,
        tail.join("\n  ")
    );
    let _ = std::fs::remove_dir_all(&venv);
}

#[test]
fn cpython_3_8() {
    package_tests_pass_on("3.8");
}

#[test]
fn cpython_3_9() {
    package_tests_pass_on("3.9");
}

#[test]
fn cpython_3_10() {
    package_tests_pass_on("3.10");
}

#[test]
fn cpython_3_11() {
    package_tests_pass_on("3.11");
}

#[test]
fn cpython_3_12() {
    package_tests_pass_on("3.12");
}

#[test]
fn cpython_3_13() {
    package_tests_pass_on("3.13");
}
