//! The writer reproduces real files byte for byte: FLAG_REF placement, back-references, text floats,
//! every string kind and header layout, from the object table alone.

mod support;

use std::path::PathBuf;

/// Parses and rewrites each file; returns how many were compared.
fn rewrites_exactly(files: &[PathBuf]) -> usize {
    let mut compared = 0;
    for path in files {
        let data = std::fs::read(path).unwrap();
        let Ok(pyc) = pycmarshal::parse_pyc(&data) else {
            continue;
        };
        let mut written = Vec::new();
        match pycmarshal::write::encode::write_pyc(&mut written, &pyc) {
            // GraalPy's and RustPython's formats are read, not written.
            Err(e) if matches!(e.kind(), pycmarshal::ErrorKind::Unsupported(_)) => continue,
            result => result.unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        }
        if written != data {
            let at = written.iter().zip(&data).position(|(a, b)| a != b);
            panic!(
                "{}: rewritten differs at byte {at:?} ({} vs {} bytes)",
                path.display(),
                written.len(),
                data.len()
            );
        }
        compared += 1;
    }
    compared
}

#[test]
fn every_parsed_file_of_the_shared_corpus_is_rewritten_byte_for_byte() {
    let Some(corpus) = support::corpus("every_parsed_file_of_the_shared_corpus_is_rewritten")
    else {
        return;
    };
    let files: Vec<PathBuf> = support::corpus_files(&corpus)
        .into_iter()
        .map(|(_, path)| path)
        .collect();
    let compared = rewrites_exactly(&files);
    println!(
        "shared corpus: {compared} of {} files rewritten byte for byte",
        files.len()
    );
    assert!(compared > 1600, "only {compared}");
}

#[test]
fn the_compiled_standard_library_is_rewritten_byte_for_byte() {
    let python = support::python3();
    for mode in ["timestamp", "checked-hash", "unchecked-hash"] {
        let files = support::compiled_stdlib(&python, mode);
        let compared = rewrites_exactly(&files);
        assert_eq!(compared, files.len());
        println!(
            "{} stdlib, {mode}: {compared} files rewritten byte for byte",
            python.label()
        );
    }
}

#[test]
fn a_new_header_for_every_release_reads_back_as_written() {
    use pycmarshal::format::magic::MAGICS;
    use pycmarshal::{Header, Invalidation};
    let mut written = 0;
    for entry in MAGICS.iter().filter(|entry| entry.is_release()) {
        for invalidation in [
            Invalidation::Timestamp {
                mtime: 1_700_000_000,
                source_size: None,
            },
            Invalidation::Timestamp {
                mtime: 7,
                source_size: Some(42),
            },
            Invalidation::CheckedHash { hash: *b"hashhash" },
            Invalidation::UncheckedHash {
                hash: *b"\x01\x02\x03\x04\x05\x06\x07\x08",
            },
        ] {
            let Some(header) = Header::new(entry.python, invalidation) else {
                continue;
            };
            let mut bytes = Vec::new();
            pycmarshal::write::encode::write_header(&mut bytes, &header);
            assert_eq!(bytes.len(), header.size());
            let read = pycmarshal::read::header::parse(&bytes, None).unwrap();
            assert_eq!(read.invalidation, invalidation, "{}", entry.python);
            assert_eq!(read.python, entry.python);
            written += 1;
        }
    }
    println!("{written} headers written and read back");
    assert!(written > 50);
}
