//! The fuzz targets' bodies on stable, so CI covers them: over every seed in `corpus/` (which
//! `corpus/generate.py` writes with the local interpreters), and over deterministic pseudo-random
//! inputs for the generator-driven targets.

use pycmarshal::Python;
use pycmarshal::fuzzing;
use pycmarshal::fuzzing::generate::Sample;
use std::path::{Path, PathBuf};

fn seeds(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run python3 corpus/generate.py)", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// `n` inputs of 0 to 4 KiB from a fixed xorshift stream.
fn pseudo_random_inputs(n: usize) -> Vec<Vec<u8>> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = (next() % 4096) as usize;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

#[test]
fn the_seed_pycs_parse_strictly() {
    for path in seeds("pyc") {
        let data = std::fs::read(&path).unwrap();
        if let Err(error) = pycmarshal::parse_pyc(&data) {
            panic!("{}: {error}", path.display());
        }
    }
}

#[test]
fn the_parse_and_header_targets_hold_on_every_seed() {
    let files: Vec<PathBuf> = seeds("pyc").into_iter().chain(seeds("marshal")).collect();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        fuzzing::parse(&data);
        fuzzing::header(&data);
        // Every prefix too: the cut files a fuzzer finds first.
        for cut in 0..data.len().min(512) {
            fuzzing::parse(&data[..cut]);
        }
    }
    println!(
        "parse and header targets: {} seeds and their prefixes",
        files.len()
    );
}

#[test]
fn the_generator_driven_targets_hold_on_seeds_and_pseudo_random_inputs() {
    let mut inputs: Vec<Vec<u8>> = seeds("marshal")
        .iter()
        .chain(&seeds("pyc"))
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    inputs.extend(pseudo_random_inputs(3000));
    for data in &inputs {
        fuzzing::roundtrip(data);
        fuzzing::truncate(data);
        fuzzing::parse(data);
    }
    println!("roundtrip and truncate targets: {} inputs", inputs.len());
}

#[test]
fn the_tool_targets_hold_on_seeds_generated_graphs_and_pseudo_random_inputs() {
    use arbitrary::{Arbitrary, Unstructured};
    let mut inputs: Vec<Vec<u8>> = seeds("marshal")
        .iter()
        .chain(&seeds("pyc"))
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    let random = pseudo_random_inputs(1500);
    // Valid object graphs reach deep into the tools; raw bytes try what a fuzzer tries first.
    for data in &random {
        if let Ok(sample) = Sample::arbitrary(&mut Unstructured::new(data)) {
            inputs.push(sample.data);
        }
    }
    inputs.extend(random);
    for data in &inputs {
        fuzzing::print(data);
        fuzzing::infer(data);
        fuzzing::normalize(data);
        fuzzing::bytecode(data);
    }
    println!(
        "print, infer, normalize and bytecode targets: {} inputs",
        inputs.len()
    );
}

/// Inputs the fuzz campaign found, each of which broke a target's property before its fix. They run
/// through every target body, so a regression in any of them shows here on stable.
const FINDINGS: &[(&str, &[u8])] = &[
    // parse: a dict ended by a NULL carrying FLAG_REF (which CPython accepts and ignores) was written
    // back with a plain NULL.
    ("flagged dict terminator", b"{\xb0"),
    ("flagged frozendict terminator", b"}\xb0"),
    ("flagged terminator of a non-empty dict", b"{N\xce\xb0"),
];

#[test]
fn the_fuzz_findings_hold_in_every_target() {
    for (name, data) in FINDINGS {
        println!("{name}");
        fuzzing::parse(data);
        fuzzing::header(data);
        fuzzing::roundtrip(data);
        fuzzing::truncate(data);
        fuzzing::print(data);
        fuzzing::infer(data);
        fuzzing::normalize(data);
        fuzzing::bytecode(data);
    }
}

/// Generated samples the campaign found, kept as the samples themselves (the generator may read the
/// fuzzer's bytes differently later): Python version, marshal version, marshal bytes.
const SAMPLE_FINDINGS: &[(&str, Python, u8, &[u8])] = &[
    // roundtrip: a set holding a tuple and a list that hold each other. The digests of a cycle's
    // objects depend on which one the walk meets first, so sorting the set by them reordered it on
    // each normalization.
    (
        "set items in a cycle",
        Python::cpython(3, 10),
        3,
        b"<\x05\x00\x00\x00\xa8\x03\x00\x00\x00\xdb\x06\x00\x00\x00r\x00\x00\x00\x00NTNNNNN\xf2\x01\x00\x00\x00NNN",
    ),
];

#[test]
fn the_sample_findings_hold_in_the_generator_driven_targets() {
    for &(name, python, version, data) in SAMPLE_FINDINGS {
        println!("{name}");
        let sample = Sample {
            python,
            version,
            data: data.to_vec(),
        };
        fuzzing::roundtrip_sample(&sample);
        fuzzing::truncate_sample(&sample);
    }
}

#[test]
fn the_generator_reaches_every_code_layout() {
    use arbitrary::{Arbitrary, Unstructured};
    let mut layouts = std::collections::BTreeSet::new();
    for data in pseudo_random_inputs(3000) {
        if let Ok(sample) = Sample::arbitrary(&mut Unstructured::new(&data)) {
            layouts.insert(format!("{:?}", sample.python.code_layout()));
        }
    }
    for layout in pycmarshal::CodeLayout::ALL {
        assert!(layouts.contains(&format!("{layout:?}")), "{layout:?}");
    }
}
