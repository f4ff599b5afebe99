//! Hostile inputs: every error kind from a crafted input (and python3 agreeing that the input is bad),
//! random mutations of real files, sharing that would explode if expanded, and nesting far deeper than
//! any stack.

mod support;

use pycmarshal::{ErrorKind, Options, Python};
use std::process::Command;

/// What python3's `marshal.loads` says of `data`: `Ok(())` or the exception, as `Type: message`.
fn python3_loads(data: &[u8]) -> Result<(), String> {
    let script = "import marshal, sys\n\
                  try:\n    marshal.loads(sys.stdin.buffer.read()); print('ok')\n\
                  except Exception as e:\n    print(type(e).__name__ + ': ' + str(e))";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is the oracle");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    match String::from_utf8_lossy(&out.stdout).trim() {
        "ok" => Ok(()),
        error => Err(error.to_string()),
    }
}

/// Parses raw marshal data and checks the error's kind, offset and context; also that python3 rejects
/// the same bytes with a message containing `python_says`.
#[track_caller]
fn rejects(data: &[u8], kind: ErrorKind, offset: u64, context: &str, python_says: &str) {
    let error = pycmarshal::parse_marshal(data).unwrap_err();
    assert_eq!(error.kind(), &kind, "{error}");
    assert_eq!(error.offset(), offset, "{error}");
    assert_eq!(error.context().to_string(), context, "{error}");
    let python = python3_loads(data).unwrap_err();
    assert!(python.contains(python_says), "python3 said {python:?}");
}

#[test]
fn a_value_cut_short_is_truncated_with_what_it_needed() {
    rejects(
        b"i\x01\x00",
        ErrorKind::Truncated { needed: 4, left: 2 },
        1,
        "int",
        "EOFError",
    );
    rejects(
        b")\x02N(\x01\x00\x00\x00",
        ErrorKind::Truncated { needed: 1, left: 0 },
        8,
        "[1]: items",
        "EOFError",
    );
    rejects(
        b"{N",
        ErrorKind::Truncated { needed: 1, left: 0 },
        2,
        "[value 0]: type code",
        "EOFError",
    );
    rejects(
        b"\xfa\x05ab",
        ErrorKind::Truncated { needed: 5, left: 2 },
        2,
        "str payload",
        "EOFError",
    );
}

#[test]
fn a_count_larger_than_the_bytes_left_is_truncated_before_anything_is_allocated() {
    rejects(
        b"(\x00\x00\x01\x00N",
        ErrorKind::Truncated {
            needed: 0x1_0000,
            left: 1,
        },
        5,
        "items",
        "EOFError",
    );
}

#[test]
fn an_undefined_type_code_is_unknown() {
    rejects(
        b"(\x01\x00\x00\x00?",
        ErrorKind::UnknownTypeCode(b'?'),
        5,
        "[0]: type code",
        "unknown type code",
    );
}

#[test]
fn a_negative_length_is_a_bad_length() {
    rejects(
        b"s\xff\xff\xff\xff",
        ErrorKind::BadLength(-1),
        1,
        "length",
        "size out of range",
    );
    rejects(
        b"[\xfe\xff\xff\xff",
        ErrorKind::BadLength(-2),
        1,
        "size",
        "size out of range",
    );
    rejects(
        b"l\x00\x00\x00\x80",
        ErrorKind::BadLength(i64::from(i32::MIN)),
        1,
        "long size",
        "long size out of range",
    );
}

#[test]
fn a_reference_to_a_missing_or_unfinished_slot_is_invalid() {
    rejects(
        b"r\x00\x00\x00\x00",
        ErrorKind::InvalidReference(0),
        1,
        "reference",
        "invalid reference",
    );
    // A frozenset's slot is filled only once it is built: it cannot contain itself.
    rejects(
        b"\xbe\x01\x00\x00\x00r\x00\x00\x00\x00",
        ErrorKind::InvalidReference(0),
        6,
        "[0]: reference",
        "invalid reference",
    );
}

#[test]
fn a_flagged_singleton_takes_no_reference_slot() {
    rejects(
        b")\x02\xcer\x00\x00\x00\x00",
        ErrorKind::InvalidReference(0),
        4,
        "[1]: reference",
        "invalid reference",
    );
}

#[test]
fn a_unicode_payload_must_be_utf8() {
    rejects(
        b"u\x02\x00\x00\x00a\xff",
        ErrorKind::InvalidUtf8,
        6,
        "str payload",
        "can't decode",
    );
}

#[test]
fn long_digits_are_checked_as_cpython_checks_them() {
    rejects(
        b"l\x01\x00\x00\x00\x00\x80",
        ErrorKind::BadLongDigit(0x8000),
        5,
        "long digits",
        "digit out of range in long",
    );
    rejects(
        b"l\xfe\xff\xff\xff\x01\x00\x00\x00",
        ErrorKind::UnnormalizedLong,
        7,
        "long digits",
        "unnormalized long data",
    );
}

#[test]
fn a_text_float_must_be_a_number() {
    rejects(
        b"f\x031.x",
        ErrorKind::BadFloatText,
        2,
        "float text",
        "could not convert string to float",
    );
}

#[test]
fn nesting_deeper_than_cpython_allows_hits_the_depth_limit() {
    let mut data = b")\x01".repeat(2000);
    data.push(b'N');
    rejects(
        &data,
        ErrorKind::DepthLimit(2000),
        4000,
        // The message shows the path's ends; the error holds all of it.
        &format!("{0}...(1984 steps)...{0}: type code", "[0]".repeat(8)),
        "recursion limit exceeded",
    );
    let error = pycmarshal::parse_marshal(&data).unwrap_err();
    assert_eq!(error.context().path.len(), 2000);
    // One level less loads, here as in CPython.
    assert!(pycmarshal::parse_marshal(&data[2..]).is_ok());
    assert_eq!(python3_loads(&data[2..]), Ok(()));
}

#[test]
fn a_null_is_only_a_dict_terminator() {
    rejects(
        b"0",
        ErrorKind::UnexpectedNull,
        0,
        "type code",
        "NULL object",
    );
    rejects(
        b")\x010",
        ErrorKind::UnexpectedNull,
        2,
        "[0]: type code",
        "NULL object",
    );
    // CPython 3 silently drops a key whose value is NULL; 2.7 and PyPy disagree. No writer emits it.
    let error = pycmarshal::parse_marshal(b"{N0").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnexpectedNull);
    assert_eq!(error.context().to_string(), "[value 0]: type code");
}

#[test]
fn bytes_after_the_object_are_trailing() {
    let error = pycmarshal::parse_marshal(b"NN").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::TrailingBytes(1));
    assert_eq!(error.offset(), 1);
    // CPython ignores them: the strict parse is stricter than an importer on purpose.
    assert_eq!(python3_loads(b"NN"), Ok(()));
}

/// A header of CPython 3.11 (magic 3495) with timestamp flags.
fn header_311() -> Vec<u8> {
    let mut data = vec![0xa7, 0x0d, 0x0d, 0x0a];
    data.extend([0; 12]);
    data
}

#[test]
fn header_faults_have_their_own_kinds() {
    let error = pycmarshal::parse_pyc(b"\x34\x12\x0d\x0a\0\0\0\0\0\0\0\0").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnknownMagic(0x0a0d_1234));
    assert_eq!(error.offset(), 0);

    let error = pycmarshal::parse_pyc(&[0; 16]).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::PlaceholderMagic);

    let mut data = header_311();
    data[4] = 4;
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadFlags(4));
    assert_eq!((error.offset(), error.context().what), (4, "flags"));

    let error = pycmarshal::parse_pyc(&header_311()[..10]).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::Truncated { needed: 4, left: 2 });
    assert_eq!((error.offset(), error.context().what), (8, "mtime"));
}

#[test]
fn an_unknown_magic_reads_as_the_version_the_caller_names() {
    let mut data = b"\x34\x12\x0d\x0a".to_vec();
    data.extend([0; 12]);
    data.extend(support::python_output(
        &support::python3(),
        "import marshal, sys; sys.stdout.buffer.write(marshal.dumps(compile('', 'm.py', 'exec')))",
    ));
    let options = Options::new().python(Python::cpython(3, 11));
    let pyc = options.parse_pyc(&data).unwrap();
    assert_eq!(pyc.header.entry, None);
    assert_eq!(pyc.code().unwrap().name().as_deref(), Some("<module>"));
}

#[test]
fn the_root_of_a_pyc_must_be_a_code_object() {
    let mut data = header_311();
    data.push(b'N');
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::RootNotCode);
    assert_eq!(error.offset(), 16);
}

#[test]
fn a_code_field_of_the_wrong_type_is_refused() {
    // A 3.11 code object whose co_code is a str.
    let mut data = header_311();
    data.push(b'c');
    data.extend([0; 20]);
    data.extend(b"z\x01x");
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::WrongFieldType { expected: "bytes" }
    );
    assert_eq!(error.offset(), 37);
    assert_eq!(error.context().to_string(), "co_code: code field");
}

#[test]
fn payloads_of_unverified_graalpy_versions_are_foreign() {
    // GraalPy 21290 and RustPython `1aea` have readers now (tests/foreign.rs); 21260 (GraalPy 3.8) has
    // no sample to read it by.
    let mut data = b"\x0c\x53\x0d\x0a".to_vec(); // GraalPy 21260
    data.extend([0; 12]);
    data.push(0xc3);
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::ForeignFormat);
    assert_eq!(error.offset(), 16);
}

#[test]
fn an_input_of_2_gib_is_refused_up_front() {
    // Zeroed pages are mapped lazily: this costs no memory.
    let data = vec![0u8; 1 << 31];
    let error = pycmarshal::parse_marshal(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InputTooLarge);
}

#[test]
fn sixty_four_tuples_sharing_their_predecessor_twice_stay_linear() {
    // x = (); for _ in range(64): x = (x, x) -- 2**64 leaves if expanded.
    let data = support::python_output(
        &support::python3(),
        "import marshal, sys\nx = ()\nfor _ in range(64): x = (x, x)\nsys.stdout.buffer.write(marshal.dumps(x))",
    );
    let objects = pycmarshal::parse_marshal(&data).unwrap();
    let json = support::json_document(None, objects.root(), None);
    assert!(
        data.len() < 1000 && json.len() < 10_000,
        "{} {}",
        data.len(),
        json.len()
    );
    let mut depth = 0;
    let mut node = objects.root().unwrap();
    while let Some(first) = node.items().and_then(|items| items.get(0)) {
        let second = node.items().unwrap().get(1).unwrap();
        assert_eq!(second.resolve().id(), first.resolve().id());
        node = first.resolve();
        depth += 1;
    }
    assert_eq!(depth, 64);
}

#[test]
fn a_hundred_thousand_nested_containers_never_overflow_the_stack() {
    // A spawned thread has the default 2 MiB stack.
    std::thread::spawn(|| {
        for open in [&b")\x01"[..], b"[\x01\x00\x00\x00"] {
            let mut data = open.repeat(100_000);
            data.push(b'N');
            let error = pycmarshal::parse_marshal(&data).unwrap_err();
            assert_eq!(error.kind(), &ErrorKind::DepthLimit(2000));

            let unlimited = Options::new().max_depth(u32::MAX);
            let objects = unlimited.parse_marshal(&data).unwrap();
            let json = support::json_document(None, objects.root(), None);
            assert_eq!(json.matches("\"items\"").count(), 100_000);
            let partial = unlimited.parse_marshal_tolerant(&data[..data.len() - 1]);
            assert!(partial.error.unwrap().is_truncated());
            assert!(!partial.objects.root().unwrap().is_complete());
        }
    })
    .join()
    .unwrap();
}

/// A small deterministic generator, so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_of_real_files_give_only_results_or_typed_errors() {
    let python = support::python3();
    let files = support::compiled_stdlib(&python, "timestamp");
    let mut rng = XorShift(0x5eed_2026);
    let (mut ok, mut errors) = (0, std::collections::BTreeMap::<&str, usize>::new());
    let mutations = 10_000;
    for _ in 0..mutations {
        let path = &files[rng.below(files.len())];
        let mut data = std::fs::read(path).unwrap();
        for _ in 0..=rng.below(4) {
            let at = rng.below(data.len());
            match rng.below(5) {
                0 => data[at] ^= 1 << rng.below(8),
                1 => data[at] = rng.next() as u8,
                2 => data.insert(at, rng.next() as u8),
                3 => {
                    data.remove(at);
                }
                _ => {
                    let end = (at + 1 + rng.below(16)).min(data.len());
                    data[at..end].fill(0xff);
                }
            }
        }
        let strict = pycmarshal::parse_pyc(&data);
        let tolerant = Options::new().parse_pyc_tolerant(&data);
        let validated = Options::new().validate_pyc(&data);
        match strict {
            Ok(_) => {
                ok += 1;
                assert!(tolerant.error.is_none() && validated.is_ok());
            }
            Err(error) => {
                assert_eq!(tolerant.error.as_ref(), Some(&error));
                assert_eq!(validated.as_ref().err(), Some(&error));
                assert!(error.offset() <= data.len() as u64);
                *errors.entry(error.kind().name()).or_default() += 1;
            }
        }
    }
    println!("{mutations} mutations: {ok} still parse, errors by kind {errors:?}");
}

#[test]
fn a_dict_may_end_with_a_flagged_null_which_is_kept() {
    // CPython reads the type byte's flag off before it sees the NULL, and registers nothing for it.
    let data = b"{N\xce\xb0";
    assert_eq!(python3_loads(data), Ok(()));
    let objects = pycmarshal::parse_marshal(data).unwrap();
    assert!(objects.refs().next().is_none());
    let Some(pycmarshal::Value::Dict(pairs)) = objects.root().map(|root| root.value()) else {
        panic!("not a dict");
    };
    assert_eq!((pairs.len(), pairs.terminator()), (1, Some(0xb0)));
    let mut written = Vec::new();
    pycmarshal::write::encode::write_marshal(&mut written, &objects).unwrap();
    assert_eq!(written, data);
}

#[test]
fn an_old_style_code_object_is_read_only_where_python_1_0_to_1_2_wrote_it() {
    // `C` with the 1.0 fields: CPython 1.3 and later have no such type code.
    let old = b"Cs\x00\x00\x00\x00(\x00\x00\x00\x00(\x00\x00\x00\x00z\x00z\x00";
    rejects(
        old,
        ErrorKind::UnknownTypeCode(b'C'),
        0,
        "type code",
        "unknown type code",
    );
    // Had it been read, normalizing would have written it as `c`, which the version reads with its own
    // fields: bytes that no longer parse.
    let old_1_0 =
        b"Cs\x00\x00\x00\x00[\x00\x00\x00\x00[\x00\x00\x00\x00s\x00\x00\x00\x00s\x00\x00\x00\x00";
    let options = Options::new().python(Python::cpython(1, 0));
    assert!(options.parse_marshal(old_1_0).is_ok());
    let options = Options::new().python(Python::cpython(2, 7));
    let error = options.parse_marshal(old_1_0).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnknownTypeCode(b'C'));
}
