//! Normalization depends only on the value: two encodings of one value (a compiled file, and python3's
//! `marshal.dumps(marshal.loads(body))` of it, whose FLAG_REF placement differs) normalize to the same
//! bytes; python3 loads the result to an equal value; normalizing twice changes nothing.

mod support;

use pycmarshal::write::normalize;
use pycmarshal::{Options, Python};
use std::io::Write;
use std::process::{Command, Stdio};

/// The normalizing writers, returning what they write.
fn normalize_pyc(pyc: &pycmarshal::Pyc<'_>) -> Result<Vec<u8>, pycmarshal::Error> {
    let mut out = Vec::new();
    normalize::write_pyc(&mut out, pyc).map(|()| out)
}

fn normalize_marshal(objects: &pycmarshal::Objects<'_>) -> Result<Vec<u8>, pycmarshal::Error> {
    let mut out = Vec::new();
    normalize::write_marshal(&mut out, objects).map(|()| out)
}

fn normalize_marshal_at(
    objects: &pycmarshal::Objects<'_>,
    version: u8,
) -> Result<Vec<u8>, pycmarshal::Error> {
    let mut out = Vec::new();
    normalize::write_marshal_at(&mut out, objects, version).map(|()| out)
}

/// Runs tests/oracle/redump.py over `files` with `args`; returns its stdout.
fn redump(python: &support::Interpreter, files: &[std::path::PathBuf], args: &[&str]) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/redump.py");
    let mut child = Command::new(&python.program)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let list: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "redump.py {args:?}: {stdout}");
    stdout
}

#[test]
fn a_file_and_pythons_redump_of_it_normalize_to_the_same_value_preserving_bytes() {
    let python = support::python3();
    let files: Vec<_> = support::compiled_stdlib(&python, "timestamp")
        .into_iter()
        .step_by(8)
        .collect();
    let dir = support::tempdir();
    let out = dir.path().to_str().unwrap();
    redump(&python, &files, &[out]);
    let options = Options::new().python(python.python());
    let (mut differently_flagged, mut bytes_in, mut bytes_out) = (0, 0, 0);
    for (n, path) in files.iter().enumerate() {
        let data = std::fs::read(path).unwrap();
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let normalized = normalize_pyc(&pyc).unwrap();
        let header = pyc.header.size();
        assert_eq!(normalized[..header], data[..header], "the header is kept");
        let body = &normalized[header..];

        let redumped = std::fs::read(dir.path().join(format!("{n}.marshal"))).unwrap();
        if redumped != data[header..] {
            differently_flagged += 1;
        }
        let from_redump = normalize_marshal(&options.parse_marshal(&redumped).unwrap()).unwrap();
        assert!(
            from_redump == body,
            "{}: two encodings normalize differently",
            path.display()
        );

        let again = normalize_marshal(&options.parse_marshal(body).unwrap()).unwrap();
        assert!(
            again == body,
            "{}: normalizing twice changed it",
            path.display()
        );

        std::fs::write(dir.path().join(format!("{n}.marshal")), body).unwrap();
        bytes_in += data.len() - header;
        bytes_out += body.len();
    }
    let checked = redump(&python, &files, &[out, "--equal"]);
    println!(
        "{} files ({differently_flagged} of them redumped differently by {}): normalized identically \
         from both encodings, idempotent, loaded equal by python3 ({}); {bytes_in} -> {bytes_out} bytes",
        files.len(),
        python.label(),
        checked.trim()
    );
    assert!(
        differently_flagged > 0,
        "the test needs encodings that differ"
    );
}

#[test]
fn merging_writes_each_equal_immutable_value_once_and_flags_only_what_is_referred_to() {
    // (("ab", 1000000), ("ab", 1000000), [7], [7]) dumped without any sharing (marshal version 2).
    let python = support::python3();
    let data = support::python_output(
        &python,
        "import marshal, sys\nv = (('a' + 'b', 10**6), ('a' + 'b', 10**6), [7], [7])\n\
         sys.stdout.buffer.write(marshal.dumps(v, 2))",
    );
    let objects = Options::new()
        .python(Python::cpython(3, 11))
        .parse_marshal(&data)
        .unwrap();
    let normalized = normalize_marshal(&objects).unwrap();
    // ) 4 | flagged ) 2 | z 2 "ab" | i 1000000 | r 0 | [ 1 flagged i 7 | [ 1 r 1: the ints merge,
    // the lists stay two lists.
    let mut want = vec![b')', 4, b')' | 0x80, 2, b'z', 2, b'a', b'b', b'i'];
    want.extend(1_000_000i32.to_le_bytes());
    want.extend([b'r', 0, 0, 0, 0]);
    want.extend([b'[', 1, 0, 0, 0, b'i' | 0x80, 7, 0, 0, 0]);
    want.extend([b'[', 1, 0, 0, 0, b'r', 1, 0, 0, 0]);
    assert_eq!(normalized, want);
    assert_eq!(
        support::python_output(
            &python,
            &format!(
                "import marshal; print(marshal.loads(bytes.fromhex('{}')))",
                normalized
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        ),
        b"(('ab', 1000000), ('ab', 1000000), [7], [7])\n"
    );
}

#[test]
fn a_chosen_marshal_version_picks_the_type_codes_cpython_picks_at_it() {
    // ('ab', 'ab') with an interned 'ab', as 3.11 dumps it at version 4 (`)`, `Z`), normalized at 3:
    // `(` and `t` (interned UTF-8), then a back-reference.
    let objects = pycmarshal::parse_marshal(b"\xa9\x02\xda\x02abr\x01\x00\x00\x00").unwrap();
    let at3 = normalize_marshal_at(&objects, 3).unwrap();
    assert_eq!(
        at3,
        b"(\x02\x00\x00\x00\xf4\x02\x00\x00\x00abr\x00\x00\x00\x00"
    );
    let python = support::python3();
    let script = "import marshal; print(marshal.loads(bytes.fromhex('2802000000f4020000006162720000000000')))";
    assert_eq!(support::python_output(&python, script), b"('ab', 'ab')\n");
    for version in [0, 2, 7] {
        assert!(normalize_marshal_at(&objects, version).is_err());
    }
}

#[test]
fn data_without_back_references_is_not_normalized() {
    let objects = Options::new()
        .python(Python::cpython(2, 7))
        .parse_marshal(b"N")
        .unwrap();
    let error = normalize_marshal(&objects).unwrap_err();
    assert_eq!(error.kind().name(), "unsupported");
}

/// Runs the built `pyc` with `args`; returns (exit code, stdout).
fn pyc(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn pyc_normalize_rewrites_caches_in_place_that_python_then_imports() {
    let python = support::python3();
    let dir = support::tempdir();
    let source = "NAMES = ('alpha', 'beta', 'alpha' + 'beta')\n\
                  def f(x):\n    return [x, 'alpha', 1.5, {'k': (1, 2)}, frozenset({3, 4, 5})]\n";
    std::fs::write(dir.path().join("m.py"), source).unwrap();
    let script = format!(
        "import py_compile; print(py_compile.compile({:?}, doraise=True))",
        dir.path().join("m.py").to_str().unwrap()
    );
    let cached = String::from_utf8(support::python_output(&python, &script)).unwrap();
    let cached = cached.trim();
    let original = std::fs::read(cached).unwrap();

    let (code, listed) = pyc(&["normalize", "--check", cached]);
    let normalized_already = listed.is_empty();
    assert_eq!(code, if normalized_already { 0 } else { 1 }, "{listed}");

    let elsewhere = dir.path().join("copy.pyc");
    let (code, _) = pyc(&["normalize", "-o", elsewhere.to_str().unwrap(), cached]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(cached).unwrap(),
        original,
        "-o leaves the file alone"
    );

    let (code, _) = pyc(&["normalize", cached]);
    assert_eq!(code, 0);
    let rewritten = std::fs::read(cached).unwrap();
    assert_eq!(rewritten, std::fs::read(&elsewhere).unwrap());
    assert_eq!(pyc(&["normalize", "--check", cached]), (0, String::new()));

    // python3 runs the rewritten cache itself: as a sourceless module (no .py beside it, so importlib
    // has nothing else to load).
    let sourceless = support::tempdir();
    std::fs::copy(cached, sourceless.path().join("m.pyc")).unwrap();
    let check = format!(
        "import sys; sys.path.insert(0, {:?})\n\
         import m\n\
         assert m.__spec__.loader.__class__.__name__ == 'SourcelessFileLoader'\n\
         print(m.NAMES, m.f(7))",
        sourceless.path().to_str().unwrap()
    );
    let printed = String::from_utf8(support::python_output(&python, &check)).unwrap();
    assert_eq!(
        printed,
        "('alpha', 'beta', 'alphabeta') [7, 'alpha', 1.5, {'k': (1, 2)}, frozenset({3, 4, 5})]\n"
    );

    let (code, _) = pyc(&["normalize", "-o", "x.pyc", cached, cached]);
    assert_eq!(code, 2, "-o with two files is a usage error");
}
