//! The fuzz targets' bodies: property checks that panic when a property fails. A panic here is not a
//! library failure but the report of one: libFuzzer and the tests catch it and keep the input. Nothing
//! outside the fuzz targets and the tests calls this module (it needs the `arbitrary` feature).
//!
//! `fuzz/` runs them under libFuzzer (`cargo +nightly fuzz run parse`); the tests run them over
//! `corpus/` on stable, so CI exercises the same code. Each takes the fuzzer's raw bytes.

use crate::encode;
use crate::generate::Sample;
use crate::magic::Python;
use crate::normalize;
use crate::parse::Options;
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
        assert_eq!(encode::write_pyc(pyc).ok().as_deref(), Some(data));
        let _ = normalize::normalize_pyc(pyc);
    }
    // The same bytes as the body of a Dropbox file: decrypting takes any bytes, and what it gives reads
    // as any 2.5 stream does.
    let mut dropbox = DROPBOX_HEADER.to_vec();
    dropbox.extend_from_slice(data);
    if let Ok(plain) = crate::dropbox::decrypt(&dropbox) {
        let options = crate::dropbox::OPTIONS;
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
            assert_eq!(encode::write_marshal(objects).ok().as_deref(), Some(data));
            let _ = crate::json::document(None, objects.root(), None);
        }
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
    assert_eq!(
        encode::write_marshal(&objects).ok().as_ref(),
        Some(&sample.data)
    );
    let Ok(normalized) = normalize::normalize_marshal(&objects) else {
        return;
    };
    let again = match options.parse_marshal(&normalized) {
        Ok(again) => again,
        Err(error) => panic!("normalized output does not parse: {error}\n{sample:?}"),
    };
    assert_eq!(
        normalize::normalize_marshal(&again).ok().as_ref(),
        Some(&normalized),
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
    if let Ok(header) = crate::header::parse(data, None) {
        let mut e = encode::Encoder::default();
        encode::write_header(&header, &mut e);
        assert_eq!(data.get(..header.size()), Some(&e.out[..]));
    }
}
