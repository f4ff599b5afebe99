//! Real files parse strictly, to the last byte: the multi-version corpus and the standard library
//! compiled by python3 itself in every invalidation mode and optimization level.

mod support;

use pycmarshal::{Implementation, Invalidation};

#[test]
fn every_python3_file_of_the_shared_corpus_parses_strictly() {
    let Some(corpus) = support::corpus("every_python3_file_of_the_shared_corpus_parses_strictly")
    else {
        return;
    };
    let mut parsed = 0;
    let mut failures = Vec::new();
    for (label, path) in support::corpus_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let Ok(header) = pycmarshal::header::parse(&data, None) else {
            failures.push(format!("{}: header", path.display()));
            continue;
        };
        let python = header.python;
        let cpython_or_pypy = matches!(
            python.implementation,
            Implementation::CPython | Implementation::PyPy
        );
        if python.major != 3 || !cpython_or_pypy {
            continue;
        }
        match pycmarshal::parse_pyc(&data) {
            Ok(pyc) => {
                assert!(pyc.code().is_some(), "{label}: root is code");
                parsed += 1;
            }
            Err(error) => failures.push(format!("{}: {error}", path.display())),
        }
    }
    println!("shared corpus: {parsed} Python 3 files parsed strictly");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(parsed > 1000, "only {parsed} files");
}

/// compileall of python3's standard library with `--invalidation-mode mode`, levels 0, 1 and 2.
fn stdlib_parses_strictly(mode: &str) {
    let python = support::python3();
    let files = support::compiled_stdlib(&python, mode);
    let mut bytes = 0;
    let mut opt_levels = [0; 3];
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let pyc =
            pycmarshal::parse_pyc(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(pyc.header.magic(), python.magic, "{}", path.display());
        let found = pyc.header.invalidation.name();
        assert_eq!(found, mode, "{}: invalidation", path.display());
        if let Invalidation::Timestamp { source_size, .. } = pyc.header.invalidation {
            assert!(source_size.is_some());
        }
        let name = path.file_name().unwrap().to_string_lossy();
        let level = ["opt-1", "opt-2"]
            .iter()
            .position(|tag| name.contains(tag))
            .map_or(0, |i| i + 1);
        opt_levels[level] += 1;
        bytes += data.len();
    }
    println!(
        "{}: {} stdlib files ({bytes} bytes, by optimization level {opt_levels:?}) parsed strictly as {mode}",
        python.label(),
        files.len()
    );
    assert!(opt_levels.iter().all(|&n| n > 100), "{opt_levels:?}");
}

#[test]
fn the_standard_library_compiled_with_timestamps_parses_strictly() {
    stdlib_parses_strictly("timestamp");
}

#[test]
fn the_standard_library_compiled_with_checked_hashes_parses_strictly() {
    stdlib_parses_strictly("checked-hash");
}

#[test]
fn the_standard_library_compiled_with_unchecked_hashes_parses_strictly() {
    stdlib_parses_strictly("unchecked-hash");
}
