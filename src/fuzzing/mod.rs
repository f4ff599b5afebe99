//! Fuzzing support, apart from the library proper: a generator of valid object graphs ([`generate`]) and
//! the fuzz targets' bodies (the functions here). May use every layer.
//!
//! The fuzz targets' bodies are property checks that panic when a property fails. A panic here is not a
//! library failure but the report of one: libFuzzer and the tests catch it and keep the input. Nothing
//! outside the fuzz targets and the tests calls this module (it needs the `arbitrary` feature).
//!
//! `fuzz/` runs them under libFuzzer (`cargo +nightly fuzz run parse`); the tests run them over
//! `corpus/` on stable, so CI exercises the same code. Each takes the fuzzer's raw bytes.

pub mod generate;

use self::generate::Sample;
use crate::format::magic::Python;
use crate::read::options::Options;
use crate::tools::{dis, dump, infer, json};
use crate::write::encode;
use crate::write::normalize;
use alloc::vec::Vec;
use arbitrary::{Arbitrary, Unstructured};

/// A Dropbox 2.5 header (magic 62135, mtime 0), to read raw bytes as a Dropbox file's body.
const DROPBOX_HEADER: [u8; 8] = *b"\xb7\xf2\r\n\0\0\0\0";

/// The versions raw bytes are also read as, beside the one a pyc header names.
const DIALECTS: [Python; 3] = [
    Python::cpython(2, 7),
    Python::cpython(3, 11),
    Python::cpython(3, 14),
];

/// Raw bytes, as a `.pyc` and as marshal data of several versions: never a panic; the strict, tolerant
/// and validating parses agree; whatever parses is written back byte for byte.
pub fn parse(data: &[u8]) {
    let options = Options::new();
    let strict = options.parse_pyc(data);
    let tolerant = options.parse_pyc_tolerant(data);
    let valid = options.validate_pyc(data);
    assert_eq!(strict.as_ref().err(), tolerant.error.as_ref());
    assert_eq!(strict.as_ref().err(), valid.as_ref().err());
    if let Ok(pyc) = &strict {
        let mut again = Vec::new();
        assert_eq!(encode::write_pyc(&mut again, pyc), Ok(()));
        assert_eq!(again, data);
        let _ = normalize::write_pyc(&mut Vec::new(), pyc);
    }
    // The same bytes as the body of a Dropbox file: decrypting takes any bytes, and what it gives reads
    // as any 2.5 stream does.
    let mut dropbox = DROPBOX_HEADER.to_vec();
    dropbox.extend_from_slice(data);
    if let Ok(plain) = crate::read::dialect::dropbox::decrypt(&dropbox) {
        let options = crate::read::dialect::dropbox::OPTIONS;
        let strict = options.parse_pyc(&plain);
        assert_eq!(
            strict.as_ref().err(),
            options.validate_pyc(&plain).as_ref().err()
        );
    }
    for python in DIALECTS {
        let options = Options::new().python(python);
        let strict = options.parse_marshal(data);
        let tolerant = options.parse_marshal_tolerant(data);
        assert_eq!(strict.as_ref().err(), tolerant.error.as_ref());
        assert_eq!(
            strict.as_ref().err(),
            options.validate_marshal(data).as_ref().err()
        );
        if let Ok(objects) = &strict {
            let mut again = Vec::new();
            assert_eq!(encode::write_marshal(&mut again, objects), Ok(()));
            assert_eq!(again, data);
        }
    }
}

/// Counts what is written to it, keeping nothing.
struct Count(usize);

impl core::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Raw bytes read tolerantly as a pyc and as marshal data of several versions, then written in the
/// JSON form and as the dump, with offsets and without: never a panic, and never more output than
/// [`json::MAX_CHARS_PER_BYTE`] or [`dump::MAX_CHARS_PER_BYTE`] bytes per input byte (plus a header's
/// worth), so that no input makes the output grow faster than the input.
pub fn print(data: &[u8]) {
    let mut partials = Vec::new();
    partials.push(Options::new().parse_pyc_tolerant(data));
    for python in DIALECTS {
        partials.push(Options::new().python(python).parse_marshal_tolerant(data));
    }
    for partial in &partials {
        let root = partial.objects.root();
        let header = partial.header.as_ref();
        let mut count = Count(0);
        let written = json::write_document(&mut count, header, root, partial.error.as_ref());
        assert_eq!(written, Ok(()));
        let bound = json::MAX_CHARS_PER_BYTE * data.len() + 4096;
        assert!(
            count.0 <= bound,
            "JSON of {} bytes: {} bytes",
            data.len(),
            count.0
        );
        for offsets in [false, true] {
            let mut count = Count(0);
            if let Some(header) = header {
                assert_eq!(dump::write_header(&mut count, header), Ok(()));
            }
            if let Some(root) = root {
                let layout = dump::Layout { offsets };
                assert_eq!(dump::write_object(&mut count, root, layout), Ok(()));
            }
            let bound = dump::MAX_CHARS_PER_BYTE * data.len() + 4096;
            assert!(
                count.0 <= bound,
                "dump of {} bytes: {} bytes",
                data.len(),
                count.0
            );
        }
    }
}

/// Version inference on raw bytes, as a pyc body and as a whole file: never a panic, and every
/// reading it offers does decode the data strictly.
pub fn infer(data: &[u8]) {
    for candidate in infer::infer_version(data) {
        let parsed = candidate.options().parse_marshal(data);
        assert!(parsed.is_ok(), "{candidate:?}: {:?}", parsed.err());
    }
    if let Some((start, candidates)) = infer::infer_pyc(data) {
        let body = data.get(start..).unwrap_or_default();
        for candidate in candidates {
            assert!(
                candidate.options().parse_marshal(body).is_ok(),
                "{candidate:?}"
            );
        }
    }
}

/// Whatever raw bytes parse as (marshal of 3.11 and 3.14, and a pyc) is normalized: the output parses
/// to a table that normalizes to the same bytes, and is at most four times the input (a text complex
/// of one-digit parts, 5 bytes, becomes a binary one of 17).
pub fn normalize(data: &[u8]) {
    let mut inputs = Vec::new();
    if let Ok(pyc) = Options::new().parse_pyc(data) {
        let mut out = Vec::new();
        if normalize::write_pyc(&mut out, &pyc).is_ok() {
            inputs.push((pyc.header.python, out, pyc.header.size()));
        }
    }
    for python in [Python::cpython(3, 11), Python::cpython(3, 14)] {
        if let Ok(objects) = Options::new().python(python).parse_marshal(data) {
            let mut out = Vec::new();
            if normalize::write_marshal(&mut out, &objects).is_ok() {
                inputs.push((python, out, 0));
            }
        }
    }
    for (python, normalized, header) in inputs {
        assert!(
            normalized.len() <= 4 * data.len() + 16,
            "{} -> {}",
            data.len(),
            normalized.len()
        );
        let body = normalized.get(header..).unwrap_or_default();
        let again = Options::new().python(python).parse_marshal(body);
        let again = match again {
            Ok(again) => again,
            Err(error) => panic!("normalized output does not parse: {error}"),
        };
        let mut twice = Vec::new();
        assert_eq!(normalize::write_marshal(&mut twice, &again), Ok(()));
        assert_eq!(twice, body, "normalizing twice changed the bytes");
    }
}

/// A generated object graph: it parses, is written back byte for byte, and (marshal 3+) normalizes to
/// bytes that parse, to the same value digest, and normalize to themselves.
pub fn roundtrip(data: &[u8]) {
    if let Ok(sample) = Sample::arbitrary(&mut Unstructured::new(data)) {
        roundtrip_sample(&sample);
    }
}

/// [`roundtrip`]'s property on one sample, so that a finding can be replayed as the sample itself,
/// whatever the generator makes of the fuzzer's bytes later.
pub fn roundtrip_sample(sample: &Sample) {
    let options = Options::new().python(sample.python);
    let objects = match options.parse_marshal(&sample.data) {
        Ok(objects) => objects,
        Err(error) => panic!("a generated sample does not parse: {error}\n{sample:?}"),
    };
    let mut written = Vec::new();
    assert_eq!(encode::write_marshal(&mut written, &objects), Ok(()));
    assert_eq!(written, sample.data);
    let mut normalized = Vec::new();
    if normalize::write_marshal(&mut normalized, &objects).is_err() {
        return;
    }
    let again = match options.parse_marshal(&normalized) {
        Ok(again) => again,
        Err(error) => panic!("normalized output does not parse: {error}\n{sample:?}"),
    };
    let mut twice = Vec::new();
    assert_eq!(normalize::write_marshal(&mut twice, &again), Ok(()));
    assert_eq!(
        twice, normalized,
        "normalizing twice changed the bytes\n{sample:?}"
    );
}

/// A generated object graph cut short, at every byte: always `truncated`.
pub fn truncate(data: &[u8]) {
    if let Ok(sample) = Sample::arbitrary(&mut Unstructured::new(data)) {
        truncate_sample(&sample);
    }
}

/// [`truncate`]'s property on one sample.
pub fn truncate_sample(sample: &Sample) {
    let options = Options::new().python(sample.python);
    for cut in 0..sample.data.len() {
        let prefix = sample.data.get(..cut).unwrap_or_default();
        match options.parse_marshal(prefix) {
            Err(error) if error.is_truncated() => {}
            other => panic!("a cut at {cut} gave {other:?}\n{sample:?}"),
        }
    }
}

/// Raw bytes as a header: never a panic, and a header that parses is written back as it was read.
pub fn header(data: &[u8]) {
    if let Ok(header) = crate::read::header::parse(data, None) {
        let mut written = Vec::new();
        encode::write_header(&mut written, &header);
        assert_eq!(data.get(..header.size()), Some(&written[..]));
    }
}

/// Code objects, from raw bytes read as a `.pyc` and from a generated object graph whose `co_code`
/// is mostly valid instructions: decoding their instructions, lines, positions and exception table and
/// writing their disassembly never panics and stays linear; and every prefix of `co_code` decodes to
/// a prefix of its instructions, then (when cut inside one) a typed error there.
pub fn bytecode(data: &[u8]) {
    deep(data);
    if let Ok(pyc) = Options::new().parse_pyc(data) {
        bytecode_objects(&pyc.objects, data.len());
    }
    if let Ok(sample) = Sample::arbitrary(&mut Unstructured::new(data)) {
        bytecode_sample(&sample);
    }
}

/// `pyc check --deep`'s two ways agree: the verifier in the skim passes a file only where parsing it
/// and verifying every code object passes it too. Returns both verdicts (skim, parse), for the
/// tests on real files, where every file that verifies should verify in the skim.
pub fn deep(data: &[u8]) -> (bool, bool) {
    let skim = crate::bytecode::verifies(&Options::new(), data);
    let parsed = crate::tools::check::deep_check_parsed(data);
    assert!(
        !skim || parsed.is_ok(),
        "the skim passes what the parse refuses: {parsed:?}"
    );
    (skim, parsed.is_ok())
}

/// [`bytecode`]'s properties on one sample, and [`deep`]'s on it as a `.pyc` file of its version.
pub fn bytecode_sample(sample: &Sample) {
    let timestamp = crate::read::header::Invalidation::Timestamp {
        mtime: 0,
        source_size: Some(0),
    };
    let header = crate::read::header::Header::new(sample.python, timestamp).or_else(|| {
        let old = crate::read::header::Invalidation::Timestamp {
            mtime: 0,
            source_size: None,
        };
        crate::read::header::Header::new(sample.python, old)
    });
    if let Some(header) = header {
        let mut pyc = Vec::new();
        encode::write_header(&mut pyc, &header);
        pyc.extend_from_slice(&sample.data);
        deep(&pyc);
    }
    if let Ok(objects) = Options::new()
        .python(sample.python)
        .parse_marshal(&sample.data)
    {
        bytecode_objects(&objects, sample.data.len());
    }
}

/// The properties on every code object under the root of `objects`, parsed from `len` bytes.
pub fn bytecode_objects(objects: &crate::object::Objects<'_>, len: usize) {
    use crate::bytecode::Bytecode;
    let Some(root) = objects.root() else {
        return;
    };
    let mut chars = Counter(0);
    let _ = dis::write_text(&mut chars, root);
    let _ = dis::write_json(&mut chars, None, Some(root), None);
    // Every argument's value is capped, every instruction and table entry a line.
    let bound = 1100 * len + 4096;
    assert!(
        chars.0 <= bound,
        "{} characters of disassembly from {len} bytes",
        chars.0
    );
    let _ = dis::verify_all(root);
    for located in dis::code_objects(root) {
        let code = located.code;
        let _ = (
            code.line_starts(),
            code.lines(),
            code.exception_table(),
            code.verify(),
        );
        let table = code.get("co_linetable").or_else(|| code.get("co_lnotab"));
        let table_len = table.and_then(|t| t.as_bytes()).map_or(0, <[u8]>::len);
        if let Ok(positions) = code.positions() {
            assert!(
                positions.len() <= 8 * table_len,
                "{} positions",
                positions.len()
            );
        }
        for set in code.other_opcodes() {
            let _ = code.verify_as(set);
        }
        prefixes(&code);
    }
}

/// Every prefix of the code's bytecode (the first 512, then every 61st): the instructions that end
/// inside it, then nothing where it ends between two, else a typed error at the one it cuts.
fn prefixes(code: &crate::object::Code<'_, '_>) {
    use crate::base::error::ErrorKind;
    use crate::bytecode::Bytecode;
    let Ok(set) = code.opcodes() else {
        return;
    };
    let full: Vec<_> = code.instructions().collect();
    let whole: Vec<_> = full.iter().filter_map(|i| i.as_ref().ok()).collect();
    let fault = full.iter().find_map(|i| i.as_ref().err());
    let len = code.bytecode().map_or(0, <[u8]>::len);
    for cut in (0..=len).filter(|&cut| cut < 512 || cut % 61 == 0 || cut == len) {
        let mut seen = 0;
        let mut error = None;
        for instruction in code.instructions_as(set).cut(cut) {
            match instruction {
                Ok(instruction) => {
                    let expected = whole.get(seen).unwrap_or_else(|| {
                        panic!(
                            "an instruction at {} past the whole code's",
                            instruction.offset
                        )
                    });
                    assert_eq!(
                        (instruction.offset, instruction.opcode, instruction.arg),
                        (expected.offset, expected.opcode, expected.arg)
                    );
                    assert!(instruction.offset + instruction.size <= cut as u32);
                    seen += 1;
                }
                Err(e) => error = Some(e),
            }
        }
        let ends = seen
            .checked_sub(1)
            .and_then(|n| whole.get(n))
            .map_or(0, |i| i.offset + i.size);
        match error {
            None => assert_eq!(
                ends as usize, cut,
                "a cut inside an instruction gave no error"
            ),
            Some(error) => {
                let cut_inside = matches!(error.kind(), ErrorKind::InstructionCut { .. });
                let same = fault.is_some_and(|f| f.kind() == error.kind());
                assert!(cut_inside || same, "a cut at {cut} gave {error}");
                let base = code
                    .get("co_code")
                    .and_then(|c| c.payload_offset())
                    .unwrap_or(0);
                assert_eq!(
                    error.offset(),
                    base + u64::from(ends),
                    "a cut at {cut}: {error}"
                );
            }
        }
    }
}

/// Counts what is written, and keeps nothing.
struct Counter(usize);

impl core::fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}
