//! The formats of the other implementations: GraalPy's and RustPython's marshal, and Dropbox's
//! encrypted 2.5. Every sample file parses strictly to its last byte, every prefix of one is truncated,
//! the code objects agree with xdis, and crafted inputs give the typed errors each format's rules call
//! for.

mod support;

use pycmarshal::{Code, ErrorKind, Implementation, Options, Python, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sample folders of the shared corpus in the other formats, and how many files each holds.
const FOLDERS: [(&str, usize); 4] = [
    ("graal3.10", 7),
    ("graal3.11", 102),
    ("rustpython3.13", 3),
    ("dropbox2.5", 1),
];

fn is_dropbox(label: &str) -> bool {
    label.starts_with("dropbox")
}

/// The files of [`FOLDERS`], with their folder name.
fn foreign_files(corpus: &Path) -> Vec<(String, PathBuf)> {
    support::corpus_files(corpus)
        .into_iter()
        .filter(|(label, _)| FOLDERS.iter().any(|(folder, _)| folder == label))
        .collect()
}

/// What a code object shows, as xdis reports it: name, first line, constants, bytecode length.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Summary {
    name: String,
    firstlineno: i64,
    consts: usize,
    code_len: usize,
}

/// The code objects in pre-order of the constants. A GraalPy code unit (a nested function) has no
/// first line of its own in the file; xdis gives it the module's, and so does this, to compare.
fn summaries(code: Code<'_, '_>, module_line: i64, out: &mut Vec<Summary>) {
    let firstlineno = code.firstlineno().map_or(module_line, i64::from);
    out.push(Summary {
        name: code.name().unwrap_or_default().into_owned(),
        firstlineno,
        consts: code.consts().map_or(0, |c| c.len()),
        code_len: code.bytecode().map_or(0, <[u8]>::len),
    });
    for nested in code.nested() {
        summaries(nested, module_line, out);
    }
}

/// Parses a sample strictly (a Dropbox file decrypted first) and summarizes its code objects.
fn parse_sample(label: &str, data: &[u8]) -> Result<Vec<Summary>, pycmarshal::Error> {
    let image;
    let pyc = if is_dropbox(label) {
        image = pycmarshal::read::dialect::dropbox::decrypt(data)?;
        pycmarshal::read::dialect::dropbox::OPTIONS.parse_pyc(&image)?
    } else {
        pycmarshal::parse_pyc(data)?
    };
    let code = pyc.code().expect("the root of a strict parse is code");
    let mut out = Vec::new();
    let line = code.firstlineno().map_or(0, i64::from);
    summaries(code, line, &mut out);
    Ok(out)
}

#[test]
fn every_graalpy_rustpython_and_dropbox_sample_parses_strictly_to_the_end() {
    let Some(corpus) = support::corpus("every_graalpy_rustpython_and_dropbox_sample_parses") else {
        return;
    };
    let mut parsed = std::collections::BTreeMap::new();
    for (label, path) in foreign_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let summary =
            parse_sample(&label, &data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!summary.is_empty());
        if !is_dropbox(&label) {
            // The validating and tolerant parses agree with the strict one.
            let header = Options::new().validate_pyc(&data).unwrap();
            let partial = Options::new().parse_pyc_tolerant(&data);
            assert!(partial.error.is_none(), "{}", path.display());
            let implementation = header.python.implementation;
            let expected = if label.starts_with("graal") {
                Implementation::GraalPy
            } else {
                Implementation::RustPython
            };
            assert_eq!(implementation, expected, "{}", path.display());
        }
        *parsed.entry(label).or_insert(0) += 1;
    }
    println!("parsed strictly, by folder: {parsed:?}");
    for (folder, count) in FOLDERS {
        assert_eq!(parsed.get(folder), Some(&count), "{folder}");
    }
}

#[test]
fn every_prefix_of_every_sample_is_truncated() {
    let Some(corpus) = support::corpus("every_prefix_of_every_sample_is_truncated") else {
        return;
    };
    let mut prefixes = 0;
    for (label, path) in foreign_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let image =
            is_dropbox(&label).then(|| pycmarshal::read::dialect::dropbox::decrypt(&data).unwrap());
        for cut in 0..data.len() {
            let prefix = &data[..cut];
            let error = match &image {
                Some(_) => pycmarshal::read::dialect::dropbox::decrypt(prefix).unwrap_err(),
                None => Options::new().validate_pyc(prefix).unwrap_err(),
            };
            let what = format!("{} cut at {cut}: {error}", path.display());
            assert!(error.is_truncated(), "{what}");
            assert!(error.offset() <= cut as u64, "{what}");
            if image.is_none() {
                assert_eq!(pycmarshal::parse_pyc(prefix).unwrap_err(), error, "{what}");
                let partial = Options::new().parse_pyc_tolerant(prefix);
                assert_eq!(partial.error.as_ref(), Some(&error), "{what}");
            }
            prefixes += 1;
        }
        // The decrypted stream is plain marshal: its prefixes are truncated too.
        if let Some(image) = &image {
            for cut in 0..image.len() {
                let error = pycmarshal::read::dialect::dropbox::OPTIONS
                    .validate_pyc(&image[..cut])
                    .unwrap_err();
                assert!(
                    error.is_truncated(),
                    "decrypted {} cut at {cut}: {error}",
                    path.display()
                );
                prefixes += 1;
            }
        }
    }
    println!(
        "{prefixes} prefixes of the foreign samples (and the decrypted Dropbox one) truncated"
    );
}

/// xdis's report on each file, in the order given: its code objects in pre-order, or its error.
fn xdis_report(paths: &[&PathBuf]) -> Option<Vec<serde_json::Value>> {
    let probe = Command::new("python3").args(["-c", "import xdis"]).output();
    if !probe.is_ok_and(|out| out.status.success()) {
        eprintln!("SKIPPED the comparison with xdis: python3 cannot import xdis");
        return None;
    }
    let script = r#"
import json, sys
import xdis.load

def text(s):
    return s if isinstance(s, str) else bytes(s).decode("utf-8", "replace")

def walk(co, out):
    out.append([text(co.co_name), co.co_firstlineno, len(co.co_consts), len(co.co_code)])
    for const in co.co_consts:
        if hasattr(const, "co_code") and hasattr(const, "co_consts"):
            walk(const, out)

for path in sys.argv[1:]:
    try:
        codes = []
        walk(xdis.load.load_module(path)[3], codes)
        print(json.dumps({"path": path, "codes": codes}))
    except Exception as e:
        print(json.dumps({"path": path, "error": repr(e)}))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(paths)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(reports.len(), paths.len(), "xdis: {stdout}");
    Some(reports)
}

#[test]
fn code_objects_agree_with_xdis() {
    let Some(corpus) = support::corpus("code_objects_agree_with_xdis") else {
        return;
    };
    let files = foreign_files(&corpus);
    let paths: Vec<&PathBuf> = files.iter().map(|(_, path)| path).collect();
    let Some(reports) = xdis_report(&paths) else {
        return;
    };
    let mut codes = 0;
    for ((label, path), report) in files.iter().zip(&reports) {
        assert!(
            report.get("error").is_none(),
            "xdis on {}: {report}",
            path.display()
        );
        let theirs: Vec<Summary> = report["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| Summary {
                name: code[0].as_str().unwrap().to_string(),
                firstlineno: code[1].as_i64().unwrap(),
                consts: code[2].as_u64().unwrap() as usize,
                code_len: code[3].as_u64().unwrap() as usize,
            })
            .collect();
        let data = std::fs::read(path).unwrap();
        let ours = parse_sample(label, &data).unwrap();
        assert_eq!(ours, theirs, "{}", path.display());
        codes += ours.len();
    }
    println!(
        "{codes} code objects of {} files agree with xdis (name, first line, constants, bytecode length)",
        files.len()
    );
}

/// The sample of `folder` whose name contains `name`.
fn sample(corpus: &Path, folder: &str, name: &str) -> Vec<u8> {
    let dir = corpus.join("pyc").join(folder);
    let path = support::read_dir_sorted(&dir)
        .into_iter()
        .find(|path| path.to_string_lossy().contains(name))
        .unwrap_or_else(|| panic!("no {name} in {}", dir.display()));
    std::fs::read(path).unwrap()
}

/// The code object called `name`, searching the constants depth first.
fn find_code<'o, 'a>(code: Code<'o, 'a>, name: &str) -> Option<Code<'o, 'a>> {
    if code.name().as_deref() == Some(name) {
        return Some(code);
    }
    code.nested().find_map(|nested| find_code(nested, name))
}

/// xdis gives a GraalPy function (a code unit in the constants) the module's first line: the file
/// stores none for it beside the unit's own `startLine`. The same sources compiled by RustPython show
/// that `startLine` is the function's first line.
#[test]
fn a_graalpy_function_starts_at_its_units_start_line_not_where_xdis_says() {
    let Some(corpus) = support::corpus("a_graalpy_function_starts_at_its_start_line") else {
        return;
    };
    for (source, function, line) in [
        ("00_if_elif", "testit", 5),
        ("00_return_return_bug", "return_return_bug", 6),
    ] {
        let graal = sample(&corpus, "graal3.10", source);
        let pyc = pycmarshal::parse_pyc(&graal).unwrap();
        let module = pyc.code().unwrap();
        let unit = find_code(module, function).unwrap();
        assert_eq!(unit.firstlineno(), None, "a unit has no co_firstlineno");
        assert_eq!(unit.int("startLine"), Some(line), "{source}");
        assert_eq!(
            module.firstlineno(),
            Some(1),
            "what xdis reports for {function}"
        );

        let rust = sample(&corpus, "rustpython3.13", source);
        let pyc = pycmarshal::parse_pyc(&rust).unwrap();
        let code = find_code(pyc.code().unwrap(), function).unwrap();
        assert_eq!(code.firstlineno(), Some(line), "{source}");
    }
}

#[test]
fn graalpy_3_11_and_3_12_share_a_magic_and_a_bytecode_version_and_3_12_marks_the_unit() {
    let Some(corpus) = support::corpus("graalpy_3_11_and_3_12_share_a_magic") else {
        return;
    };
    for (name, marked) in [
        ("graal311__00_if_elif", false),
        ("graal312__00_if_elif", true),
    ] {
        let data = sample(&corpus, "graal3.11", name);
        assert_eq!(&data[..4], b"\x2a\x53\x0d\x0a", "21290");
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let code = pyc.code().unwrap();
        assert_eq!(code.int("fileVersion"), Some(29));
        // The code unit starts after `C`, the file name, the flags and the unit's length.
        let name_len = u32::from_le_bytes(data[17..21].try_into().unwrap()) as usize;
        let unit = 21 + name_len + 8;
        assert_eq!(data[unit] == b'U', marked, "{name}");
    }
}

fn graalpy(minor: u8) -> Options {
    Options::new().python(Python {
        implementation: Implementation::GraalPy,
        major: 3,
        minor,
    })
}

fn i32le(value: i32) -> [u8; 4] {
    value.to_le_bytes()
}

/// A GraalPy string without a type byte: its length and UTF-8.
fn gstr(text: &str) -> Vec<u8> {
    let mut out = i32le(text.len() as i32).to_vec();
    out.extend(text.as_bytes());
    out
}

/// The body of a GraalPy code unit (after `U`) of bytecode `version`, named `f`, with `consts`
/// constants (their marshalled bytes) and the given sparse tables.
fn unit_body(version: u8, consts: &[&[u8]], inputs_map: &[u8]) -> Vec<u8> {
    let mut out = vec![version];
    out.extend(gstr("f"));
    out.extend(gstr("f"));
    for _ in 0..4 {
        out.extend(i32le(0)); // argcount, kwonly, posonly, stacksize
    }
    out.extend(i32le(2));
    out.extend(b"\x12\x00"); // code
    out.extend(i32le(0)); // srcOffsetTable
    out.extend(i32le(3)); // flags
    for _ in 0..5 {
        out.extend(i32le(0)); // names, varnames, cellvars, freevars, cell2arg
    }
    out.extend(i32le(consts.len() as i32));
    consts.iter().for_each(|c| out.extend(*c));
    out.extend(i32le(0)); // primitiveConstants
    out.extend(i32le(0)); // exceptionHandlerRanges
    for _ in 0..5 {
        out.extend(i32le(0)); // conditionProfileCount, start and end line and column
    }
    out.extend(i32le(0)); // outputCanQuicken
    out.extend(i32le(0)); // variableShouldUnbox
    out.extend(inputs_map);
    out.extend(i32le(0)); // generalizeVarsMap: length 0
    out.extend(i32le(-1));
    out
}

/// An empty sparse table.
fn no_sparse_table() -> Vec<u8> {
    [i32le(0), i32le(-1)].concat()
}

/// A GraalPy `C` around a unit body.
fn graal_code(unit: &[u8]) -> Vec<u8> {
    let mut out = vec![b'C' | 0x80];
    out.extend(gstr("m.py"));
    out.extend(i32le(3));
    out.extend(i32le(unit.len() as i32));
    out.extend(unit);
    out.extend(i32le(1)); // firstlineno
    out.extend(i32le(0)); // linetable
    out
}

/// A GraalPy 3.11 `.pyc` of `code`.
fn graal_pyc(code: &[u8]) -> Vec<u8> {
    let mut out = b"\x2a\x53\x0d\x0a".to_vec();
    out.extend([0; 12]);
    out.extend(code);
    out
}

#[test]
fn a_crafted_graalpy_file_reads_as_graalpy_writes_it() {
    let unit = unit_body(29, &[b"N", b"\xe9\x05\x00\x00\x00"], &no_sparse_table());
    let data = graal_pyc(&graal_code(&unit));
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let code = pyc.code().unwrap();
    assert_eq!(code.layout(), pycmarshal::CodeLayout::GraalPy);
    assert_eq!(code.filename().as_deref(), Some("m.py"));
    assert_eq!(
        (code.name().as_deref(), code.firstlineno()),
        (Some("f"), Some(1))
    );
    assert_eq!(code.bytecode(), Some(&b"\x12\x00"[..]));
    assert_eq!(code.consts().unwrap().len(), 2);
}

#[test]
fn a_code_unit_of_another_bytecode_version_is_refused() {
    let unit = unit_body(28, &[], &no_sparse_table());
    let data = graal_pyc(&graal_code(&unit));
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadValue);
    assert_eq!(error.offset(), 16 + 1 + 8 + 4 + 4);
    assert_eq!(error.context().to_string(), "fileVersion: bytecode version");
}

#[test]
fn a_code_unit_must_end_where_its_length_says() {
    let mut unit = unit_body(29, &[], &no_sparse_table());
    unit.push(0);
    let data = graal_pyc(&graal_code(&unit));
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::TrailingBytes(1));
    assert_eq!(error.context().to_string(), "co_firstlineno: code unit end");
    // A length too short cuts the unit: a truncation inside it, not a read past it.
    let unit = unit_body(29, &[], &no_sparse_table());
    let mut data = graal_pyc(&graal_code(&unit));
    let at = 16 + 1 + 8 + 4;
    data[at..at + 4].copy_from_slice(&i32le(unit.len() as i32 - 1));
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert!(error.is_truncated(), "{error}");
    assert_eq!(
        error.context().to_string(),
        "generalizeVarsMap[key 0]: sparse table index"
    );
}

#[test]
fn a_sparse_table_index_must_be_inside_its_table() {
    let good = [i32le(4), i32le(3), i32le(1), i32le(7), i32le(-1)].concat();
    let data = graal_pyc(&graal_code(&unit_body(29, &[], &good)));
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let table = pyc.code().unwrap().get("generalizeInputsMap").unwrap();
    let Value::Dict(pairs) = table.value() else {
        panic!("a sparse table reads as a dict");
    };
    let (key, value) = pairs.iter().next().unwrap();
    assert!(matches!(key.value(), Value::Int(3)));
    assert_eq!(value.items().unwrap().len(), 1);

    let bad = [i32le(4), i32le(4), i32le(0), i32le(-1)].concat();
    let data = graal_pyc(&graal_code(&unit_body(29, &[], &bad)));
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadValue);
    assert_eq!(
        error.context().to_string(),
        "generalizeInputsMap[key 0]: sparse table index"
    );
}

#[test]
fn each_code_unit_numbers_its_references_from_zero() {
    // A flagged tuple (slot 0, filled at once) holding a `C` whose unit refers to slot 0: the unit is
    // read by a fresh reader, so its slot 0 is its own first flagged object, here none.
    let inner = graal_code(&unit_body(29, &[b"r\x00\x00\x00\x00"], &no_sparse_table()));
    let mut data = b"\xa9\x01".to_vec();
    data.extend(&inner);
    let error = graalpy(11).parse_marshal(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidReference(0));
    // Inside the unit, slot 0 is the unit's first flagged constant.
    let unit = unit_body(
        29,
        &[b"\xe9\x07\x00\x00\x00", b"r\x00\x00\x00\x00"],
        &no_sparse_table(),
    );
    let mut data = b"\xa9\x01".to_vec();
    data.extend(graal_code(&unit));
    let objects = graalpy(11).parse_marshal(&data).unwrap();
    let code = objects.root().unwrap().items().unwrap().get(0).unwrap();
    let consts = code.as_code().unwrap().consts().unwrap();
    assert!(matches!(
        consts.get(1).unwrap().resolve().value(),
        Value::Int(7)
    ));
}

#[test]
fn graalpy_gives_flagged_singletons_a_slot_that_is_never_filled() {
    // (None|FLAG, 5|FLAG, ref 1): slot 0 is None's, slot 1 the int's (CPython would have one slot).
    let data = b")\x03\xce\xe9\x05\x00\x00\x00r\x01\x00\x00\x00";
    let objects = graalpy(11).parse_marshal(data).unwrap();
    let items = objects.root().unwrap().items().unwrap();
    assert!(matches!(
        items.get(2).unwrap().resolve().value(),
        Value::Int(5)
    ));
    let error = graalpy(11)
        .parse_marshal(b")\x02\xcer\x00\x00\x00\x00")
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidReference(0));
    assert_eq!(error.offset(), 4);
}

#[test]
fn graalpy_strings_with_lone_surrogates_are_utf32() {
    let data = b"u\xff\xff\xff\xff\x08\x00\x00\x00a\x00\x00\x00\x00\xd8\x00\x00";
    let objects = graalpy(11).parse_marshal(data).unwrap();
    let Value::Str(text) = objects.root().unwrap().value() else {
        panic!("a str");
    };
    assert_eq!(text.code_points().collect::<Vec<_>>(), [0x61, 0xd800]);
    assert_eq!(text.as_str(), None);
    let json = support::json_document(None, objects.root(), None);
    assert!(json.contains(r#""value":"a\ud800""#), "{json}");
    for (bad, offset) in [
        (
            &b"u\xff\xff\xff\xff\x05\x00\x00\x00a\x00\x00\x00\x00"[..],
            13,
        ),
        (b"u\xff\xff\xff\xff\x04\x00\x00\x00\x00\x00\x11\x00", 9),
    ] {
        let error = graalpy(11).parse_marshal(bad).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::InvalidUtf32);
        assert_eq!(error.offset(), offset);
    }
}

#[test]
fn graalpy_arrays_read_as_tuples_and_may_hold_null() {
    // ]i [1, -2], ]B [True, False], ]o [NULL, None]
    let data = b")\x03]i\x02\x00\x00\x00\x01\x00\x00\x00\xfe\xff\xff\xff\
                 ]B\x02\x00\x00\x00\x01\x00]o\x02\x00\x00\x000N";
    let objects = graalpy(11).parse_marshal(data).unwrap();
    let items = objects.root().unwrap().items().unwrap();
    let ints: Vec<_> = items
        .get(0)
        .unwrap()
        .items()
        .unwrap()
        .iter()
        .map(|o| o.value())
        .collect();
    assert!(matches!(ints[..], [Value::Int(1), Value::Int(-2)]));
    let bools = items.get(1).unwrap().items().unwrap();
    assert!(matches!(bools.get(0).unwrap().value(), Value::True));
    let objs = items.get(2).unwrap().items().unwrap();
    assert!(matches!(objs.get(0).unwrap().value(), Value::Null));
    // NULL is an item of object arrays only.
    let error = graalpy(11).parse_marshal(b")\x010").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnexpectedNull);
    // An element type GraalPy does not know.
    let error = graalpy(11)
        .parse_marshal(b"]x\x00\x00\x00\x00")
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::UnknownTypeCode(b'x'));
    assert_eq!(
        (error.offset(), error.context().to_string().as_str()),
        (1, "array type")
    );
    // A boolean is 0 or 1.
    let error = graalpy(11)
        .parse_marshal(b"]B\x01\x00\x00\x00\x02")
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadValue);
}

#[test]
fn graalpy_longs_have_digits_and_big_integers_may_be_zero() {
    let big = graalpy(11)
        .parse_marshal(b"B\x01\x00\x00\x00\x00\x00")
        .unwrap();
    let Value::Long(long) = big.root().unwrap().value() else {
        panic!("a long");
    };
    assert_eq!(long.to_i64(), Some(0));
    // GraalPy reads the first digit of any long, so a count of 0 is not readable.
    let error = graalpy(11).parse_marshal(b"l\x00\x00\x00\x00").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadLength(0));
    let error = graalpy(11)
        .parse_marshal(b"l\x01\x00\x00\x00\x00\x80")
        .unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadLongDigit(0x8000));
}

#[test]
fn claims_beyond_the_input_are_truncated_before_any_allocation() {
    for data in [
        &b"]i\xff\xff\xff\x7f"[..],
        b"]S\x00\x00\x00\x10\x00\x00\x00\x00",
        b")\x01]l\x00\x00\x00\x01",
    ] {
        let error = graalpy(11).parse_marshal(data).unwrap_err();
        assert!(error.is_truncated(), "{error}");
        assert_eq!(error.context().what, "items");
    }
    let error = rustpython()
        .parse_marshal(b"(\xff\xff\xff\xff")
        .unwrap_err();
    assert!(error.is_truncated(), "{error}");
}

#[test]
fn nesting_is_limited_in_the_other_formats_too() {
    let deep = [b")\x01".repeat(50), b"N".to_vec()].concat();
    let error = graalpy(11).max_depth(10).parse_marshal(&deep).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::DepthLimit(10));
    let deep = [b"(\x01\x00\x00\x00".repeat(50), b"N".to_vec()].concat();
    let error = rustpython().max_depth(10).parse_marshal(&deep).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::DepthLimit(10));
    assert!(rustpython().max_depth(51).parse_marshal(&deep).is_ok());
}

fn rustpython() -> Options {
    Options::new().python(Python {
        implementation: Implementation::RustPython,
        major: 3,
        minor: 13,
    })
}

#[test]
fn rustpython_ints_are_a_byte_count_and_bytes() {
    let objects = rustpython()
        .parse_marshal(b"(\x02\x00\x00\x00i\xfe\xff\xff\xff\x01\x02i\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40")
        .unwrap();
    let items = objects.root().unwrap().items().unwrap();
    assert!(matches!(items.get(0).unwrap().value(), Value::Int(-513)));
    let Value::Long(long) = items.get(1).unwrap().value() else {
        panic!("2**70 does not fit an i64");
    };
    assert_eq!(
        (long.digit_bits(), long.to_string()),
        (8, "1180591620717411303424".to_string())
    );
    let json = support::json_document(None, objects.root(), None);
    assert!(
        json.contains(r#""value":"1180591620717411303424""#),
        "{json}"
    );
}

#[test]
fn rustpython_has_no_references_flags_or_null() {
    for (data, byte) in [
        (&b"r\x00\x00\x00\x00"[..], b'r'),
        (b"\xe9", 0xe9),
        (b"0", b'0'),
    ] {
        let error = rustpython().parse_marshal(data).unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::UnknownTypeCode(byte));
        assert_eq!(error.offset(), 0);
    }
}

/// The body of a RustPython code object (after `c`) named `name`, with `locations` (line, column).
fn rust_code(name: &str, locations: &[(u32, u32)]) -> Vec<u8> {
    let le = |v: u32| v.to_le_bytes();
    let mut out = vec![b'c'];
    out.extend(le(1));
    out.extend(b"\x00\x00"); // one instruction
    out.extend(le(locations.len() as u32));
    for (line, column) in locations {
        out.extend(le(*line));
        out.extend(le(*column));
    }
    out.extend(1u16.to_le_bytes());
    for _ in 0..3 {
        out.extend(le(0));
    }
    let name_bytes = |out: &mut Vec<u8>, text: &[u8]| {
        out.extend(le(text.len() as u32));
        out.extend(text);
    };
    name_bytes(&mut out, b"m.py");
    out.extend(le(1)); // first line
    out.extend(le(0)); // stack size
    name_bytes(&mut out, name.as_bytes());
    name_bytes(&mut out, name.as_bytes());
    for _ in 0..8 {
        out.extend(le(0)); // cell2arg, consts, 4 name lists, linetable, exceptiontable
    }
    out
}

#[test]
fn a_rustpython_source_location_is_never_on_line_0() {
    let good = rust_code("f", &[(1, 0)]);
    let objects = rustpython().parse_marshal(&good).unwrap();
    assert_eq!(
        objects.root().unwrap().as_code().unwrap().name().as_deref(),
        Some("f")
    );
    let bad = rust_code("f", &[(1, 0), (0, 3)]);
    let error = rustpython().parse_marshal(&bad).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadValue);
    assert_eq!(error.offset(), 1 + 4 + 2 + 4 + 8);
    assert_eq!(error.context().to_string(), "locations: line");
}

#[test]
fn rustpython_names_are_utf8_without_surrogates() {
    let bad = rust_code("\u{fffd}", &[]);
    let at = bad
        .windows(3)
        .position(|w| w == "\u{fffd}".as_bytes())
        .unwrap();
    let mut bad = bad;
    bad[at..at + 3].copy_from_slice(b"\xed\xa0\x80"); // an encoded surrogate
    let error = rustpython().parse_marshal(&bad).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::InvalidUtf8);
    assert_eq!(error.offset(), at as u64);
    assert_eq!(error.context().to_string(), "co_name: str payload");
    // A `u` constant is WTF-8: a lone surrogate is allowed.
    let objects = rustpython()
        .parse_marshal(b"u\x03\x00\x00\x00\xed\xa0\x80")
        .unwrap();
    assert!(matches!(objects.root().unwrap().value(), Value::Str(_)));
}

#[test]
fn a_dropbox_file_is_encrypted_and_decrypts_without_a_secret() {
    let Some(corpus) = support::corpus("a_dropbox_file_is_encrypted") else {
        return;
    };
    let data = sample(&corpus, "dropbox2.5", "codeop");
    // Read as CPython 2.5, the first code object's fields run into ciphertext: after `c` come a seed
    // and the body's length, not argcount and nlocals.
    let as_cpython = Options::new()
        .code_layout(pycmarshal::CodeLayout::V2_3)
        .parse_pyc(&data)
        .unwrap_err();
    assert_eq!(as_cpython.kind(), &ErrorKind::UnknownTypeCode(b'!'));
    assert_eq!(as_cpython.offset(), 25);
    // Without a way round, a clear error.
    let error = pycmarshal::parse_pyc(&data).unwrap_err();
    assert_eq!((error.kind(), error.offset()), (&ErrorKind::Encrypted, 8));
    // The seed and the length are all the key needs: 6918 bytes of body, padded to 6928, end the file.
    let seed = u32::from_le_bytes(data[9..13].try_into().unwrap());
    let length = u32::from_le_bytes(data[13..17].try_into().unwrap());
    assert_eq!((seed, length), (0x02fa_2290, 6918));
    assert_eq!(data.len(), 17 + 6928);
    let image = pycmarshal::read::dialect::dropbox::decrypt(&data).unwrap();
    assert_eq!(&image[..9], &data[..9], "the header and the type byte stay");
    let pyc = pycmarshal::read::dialect::dropbox::OPTIONS
        .parse_pyc(&image)
        .unwrap();
    let code = pyc.code().unwrap();
    assert_eq!(code.filename().as_deref(), Some("codeop.py"));
    assert_eq!(
        code.nested().count(),
        5,
        "five nested code objects, decrypted in turn"
    );
    // With another seed the key is another, and what comes out is not a code object.
    let mut wrong = data.clone();
    wrong[9] ^= 1;
    assert!(pycmarshal::read::dialect::dropbox::decrypt(&wrong).is_err());
}

#[test]
fn dropbox_decryption_checks_what_it_reads() {
    let mut data = b"\xb7\xf2\x0d\x0a\0\0\0\0c".to_vec();
    data.extend(7i32.to_le_bytes());
    data.extend(0i32.to_le_bytes());
    let error = pycmarshal::read::dialect::dropbox::decrypt(&data).unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadLength(0));
    assert_eq!(error.offset(), 13);
    // Not a Dropbox file.
    let error =
        pycmarshal::read::dialect::dropbox::decrypt(b"\x03\xf3\x0d\x0a\0\0\0\0c").unwrap_err();
    assert_eq!(error.kind(), &ErrorKind::BadValue);
}

/// Flips each byte of a few samples in turn: whatever comes out, no parse panics.
#[test]
fn mutated_samples_never_panic() {
    let Some(corpus) = support::corpus("mutated_samples_never_panic") else {
        return;
    };
    for (folder, name) in [
        ("graal3.10", "02_complex"),
        ("graal3.11", "graal312__00_if_elif"),
        ("rustpython3.13", "00_if_elif"),
        ("dropbox2.5", "codeop"),
    ] {
        let data = sample(&corpus, folder, name);
        for at in 0..data.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut mutated = data.clone();
                mutated[at] ^= flip;
                if folder.starts_with("dropbox") {
                    if let Ok(image) = pycmarshal::read::dialect::dropbox::decrypt(&mutated) {
                        let _ =
                            pycmarshal::read::dialect::dropbox::OPTIONS.parse_pyc_tolerant(&image);
                    }
                    continue;
                }
                let _ = pycmarshal::parse_pyc(&mutated);
                let partial = Options::new().parse_pyc_tolerant(&mutated);
                let _ = support::json_document(
                    partial.header.as_ref(),
                    partial.objects.root(),
                    partial.error.as_ref(),
                );
            }
        }
    }
}

#[test]
fn the_writer_refuses_the_other_formats_and_gives_the_decrypted_dropbox_stream_back() {
    let Some(corpus) = support::corpus("the_writer_refuses_the_other_formats") else {
        return;
    };
    for (folder, name) in [
        ("graal3.10", "02_complex"),
        ("rustpython3.13", "00_if_elif"),
    ] {
        let data = sample(&corpus, folder, name);
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        for error in [
            pycmarshal::write::encode::write_pyc(&mut Vec::new(), &pyc).unwrap_err(),
            pycmarshal::write::normalize::write_pyc(&mut Vec::new(), &pyc).unwrap_err(),
        ] {
            assert!(
                matches!(error.kind(), ErrorKind::Unsupported(_)),
                "{folder}: {error}"
            );
        }
    }
    // The decrypted Dropbox stream is CPython 2.5 marshal: the writer gives it back byte for byte.
    let image =
        pycmarshal::read::dialect::dropbox::decrypt(&sample(&corpus, "dropbox2.5", "codeop"))
            .unwrap();
    let pyc = pycmarshal::read::dialect::dropbox::OPTIONS
        .parse_pyc(&image)
        .unwrap();
    let mut written = Vec::new();
    pycmarshal::write::encode::write_pyc(&mut written, &pyc).unwrap();
    assert_eq!(written, image);
}
