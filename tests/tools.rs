//! The tools keep the parser's promises: whatever the bytes and whatever kind of file, every command
//! and every public tool finishes, in output and work linear in its input, follows no link it was not
//! told to, and never calls a file that was only ever a prefix of a valid one corrupt.
//!
//! Each rule is one test, on the input that broke it before (see issue 10). Where a command could hang,
//! it runs under a guard that kills it after a minute and fails the test; nothing here times anything.

mod support;

use pycmarshal::Options;
use pycmarshal::tools::{dump, infer, json};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs `pyc ARGS`, killing it (and failing) if it has not finished in a minute: a hang is the bug.
fn pyc(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let child = Command::new(env!("CARGO_BIN_EXE_pyc"))
        .args(args.iter().map(|a| a.as_ref()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("pyc {shown:?} did not finish in a minute");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 3.11 code object (fields after the `c`) whose constants are `consts`, as marshal writes it; every
/// other field is the smallest value of its type.
fn code_3_11(consts: &[u8]) -> Vec<u8> {
    let mut out = vec![b'c'];
    for value in [0u32, 0, 0, 1, 0] {
        out.extend(value.to_le_bytes()); // argcount .. flags
    }
    out.extend(b"s\x02\x00\x00\x00\x97\x00"); // co_code
    out.extend(consts); // co_consts
    out.extend(b")\x00"); // co_names
    out.extend(b")\x00"); // co_localsplusnames
    out.extend(b"s\x00\x00\x00\x00"); // co_localspluskinds
    out.extend(b"z\x01f"); // co_filename
    out.extend(b"z\x01m"); // co_name
    out.extend(b"z\x01m"); // co_qualname
    out.extend(1u32.to_le_bytes()); // co_firstlineno
    out.extend(b"s\x00\x00\x00\x00"); // co_linetable
    out.extend(b"s\x00\x00\x00\x00"); // co_exceptiontable
    out
}

/// The input that made inference exponential: a module whose constants are `levels` flagged tuples,
/// each holding the one below and two code objects whose own `co_consts` is a back-reference to that
/// tuple below. Written out it is a few hundred bytes a level; walked through its references, 3^levels
/// visits.
fn shared_constants(levels: usize) -> Vec<u8> {
    let mut consts = Vec::new();
    // T_levels .. T_1 open first (slots 0 .. levels-1), then T_0, empty (slot `levels`).
    for _ in 0..levels {
        consts.extend(b"\xa9\x03");
    }
    consts.extend(b"\xa9\x00");
    // Then each T_k gets its two code objects, T_1 first: they refer to T_(k-1), slot levels-k+1.
    for k in 1..=levels {
        let below = (levels - k + 1) as u32;
        let code = code_3_11(&[&b"r"[..], &below.to_le_bytes()].concat());
        consts.extend(&code);
        consts.extend(&code);
    }
    code_3_11(&consts)
}

#[test]
fn inference_visits_each_code_object_once_however_their_constants_are_shared() {
    let data = shared_constants(40);
    assert!(data.len() < 8_000, "{} bytes", data.len());
    Options::new()
        .python(pycmarshal::Python::cpython(3, 11))
        .parse_marshal(&data)
        .expect("the crafted input is valid 3.11 marshal data");
    let candidates = infer::infer_version(&data);
    let best = candidates.first().expect("a 3.11 reading decodes it");
    // Each code object once: the module and two a level.
    assert_eq!(best.codes, 1 + 2 * 40, "{best:?}");
    let (start, _) = infer::infer_pyc(&data).expect("it decodes from byte 0");
    assert_eq!(start, 0);
    // The command that took more than a minute on it.
    let dir = support::tempdir();
    let path = dir.path().join("shared.marshal");
    fs::write(&path, &data).unwrap();
    for flag in ["--no-header", "--infer"] {
        let output = pyc(&[&"dump", &flag, &path]);
        assert!(output.status.success(), "{flag}: {}", text(&output.stderr));
    }
}

/// A list of `n` copies of `item`, as raw 3.11 marshal data.
fn list_of(n: usize, item: &[u8]) -> Vec<u8> {
    let mut data = vec![b'['];
    data.extend((n as u32).to_le_bytes());
    for _ in 0..n {
        data.extend(item);
    }
    data
}

/// Counts what is written to it.
#[derive(Default)]
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// What the dump and the JSON form write for `data` read as 3.11 marshal: their sizes, checked against
/// the constants the README states.
fn printed_sizes(data: &[u8]) -> (usize, usize) {
    let objects = Options::new()
        .python(pycmarshal::Python::cpython(3, 11))
        .parse_marshal_tolerant(data)
        .objects;
    let root = objects.root().expect("a root");
    let mut shown = Count::default();
    dump::write_object(&mut shown, root, dump::Layout { offsets: true }).unwrap();
    let mut json = Count::default();
    json::write_node(&mut json, root).unwrap();
    assert!(
        shown.0 <= dump::MAX_CHARS_PER_BYTE * data.len() + 4096,
        "dump: {} for {}",
        shown.0,
        data.len()
    );
    assert!(
        json.0 <= json::MAX_CHARS_PER_BYTE * data.len() + 4096,
        "json: {} for {}",
        json.0,
        data.len()
    );
    (shown.0, json.0)
}

#[test]
fn the_dump_shows_a_back_reference_as_a_reference_never_as_what_it_refers_to() {
    // 2,000 references to one long of 4,096 digits: each would print 18,000 digits again.
    let mut long = b"\xec\x00\x10\x00\x00".to_vec(); // flagged long, 4096 digits
    long.extend(std::iter::repeat_n([0xff, 0x7f], 4096).flatten());
    let mut data = vec![b'['];
    data.extend(2001u32.to_le_bytes());
    data.extend(&long);
    for _ in 0..2000 {
        data.extend(b"r\x00\x00\x00\x00");
    }
    let (shown, json) = printed_sizes(&data);
    // The long once, in hexadecimal (past the decimal limit), and a short line per reference.
    assert!(shown < 200_000, "{shown}");
    assert!(json < 100_000, "{json}");
    let objects = Options::new().parse_marshal(&data).unwrap();
    let mut text = String::new();
    dump::write_object(&mut text, objects.root().unwrap(), dump::Layout::default()).unwrap();
    assert!(
        text.contains("<ref 0: int>"),
        "{}",
        &text[..text.len().min(500)]
    );
    assert_eq!(text.matches("0xffff").count(), 1, "the long itself, once");
}

#[test]
fn the_dump_stops_indenting_past_its_deepest_level_and_says_the_depth() {
    // 1,990 nested 1-tuples: 4 bytes a level of indentation each would be 8 KB a line.
    let depth = 1990;
    let mut data = b")\x01".repeat(depth);
    data.push(b'N');
    printed_sizes(&data);
    let objects = Options::new().parse_marshal(&data).unwrap();
    let mut text = String::new();
    dump::write_object(&mut text, objects.root().unwrap(), dump::Layout::default()).unwrap();
    let widest = text.lines().map(str::len).max().unwrap();
    assert!(widest < 100, "a line of {widest} characters");
    // The innermost tuples fit on a line, three levels of them.
    let innermost = format!("[depth {}] (((None,),),),", depth - 3);
    assert!(text.contains(&innermost), "{}", &text[text.len() - 300..]);
    // The 1 MB input of the same shape that tried to allocate 15 GB.
    let mut data = b")\x01".repeat(1 << 19);
    data.push(b'N');
    let objects = Options::new()
        .max_depth(1 << 20)
        .parse_marshal(&data)
        .unwrap();
    let mut shown = Count::default();
    dump::write_object(&mut shown, objects.root().unwrap(), dump::Layout::default()).unwrap();
    assert!(
        shown.0 <= dump::MAX_CHARS_PER_BYTE * data.len(),
        "{}",
        shown.0
    );
}

#[test]
fn the_densest_inputs_print_within_the_stated_characters_per_byte() {
    for (name, data) in [
        ("singletons", list_of(100_000, b"N")),
        ("flagged empty dicts", list_of(100_000, b"\xfb\xb0")),
        ("flagged empty tuples", list_of(100_000, b"\xa9\x00")),
        ("back-references", {
            let mut data = list_of(100_000, b"r\x00\x00\x00\x00");
            data[0] |= 0x80;
            data
        }),
        ("control characters", list_of(100_000, b"\xda\x01\x01")),
    ] {
        let (shown, json) = printed_sizes(&data);
        println!("{name}: {} bytes, dump {shown}, json {json}", data.len());
    }
}

#[test]
fn longs_print_in_decimal_up_to_cpythons_limit_and_in_hexadecimal_beyond() {
    // 952 digits of 15 bits: at most 4,299 decimal digits, under CPython's 4,300.
    let python = support::python3();
    for (digits, hexadecimal) in [(952usize, false), (953, true)] {
        let mut data = b"l".to_vec();
        data.extend((digits as u32).to_le_bytes());
        data.extend(std::iter::repeat_n([0xff, 0x7f], digits).flatten());
        let objects = Options::new().parse_marshal(&data).unwrap();
        let value = match objects.root().unwrap().value() {
            pycmarshal::Value::Long(long) => long.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(value.starts_with("0x"), hexadecimal, "{digits} digits");
        // What Python makes of the text is the value marshal.loads gives.
        let script = format!(
            "import marshal, sys\nsys.set_int_max_str_digits(0)\nv = marshal.loads(bytes.fromhex('{}'))\nprint(v == int('{value}', 0))",
            support::hex(&data)
        );
        let answer = support::python_output(&python, &script);
        assert_eq!(String::from_utf8_lossy(&answer).trim(), "True");
    }
}

#[test]
fn a_text_float_ends_at_a_nul_as_cpythons_strtod_reads_it() {
    let data = b"f\x091.5\x00junk!";
    let objects = Options::new().parse_marshal(data).unwrap();
    let value = match objects.root().unwrap().value() {
        pycmarshal::Value::Float(x) => x,
        other => panic!("{other:?}"),
    };
    for name in ["3.11", "2.7"] {
        let Some(python) = support::oracle_interpreter(name, "text float with a NUL") else {
            continue;
        };
        let script = format!(
            "import marshal, binascii\nprint(repr(marshal.loads(binascii.unhexlify('{}'))))",
            support::hex(data)
        );
        let answer = support::python_output(&python, &script);
        assert_eq!(String::from_utf8_lossy(&answer).trim(), "1.5", "{name}");
    }
    assert_eq!(value, 1.5);
}

/// A small tree compiled by python3: `pkg/m.py` and its cache, with a checked hash when `hashed`.
fn compiled(dir: &Path, hashed: bool) -> (PathBuf, PathBuf) {
    let source = dir.join("pkg/m.py");
    fs::create_dir_all(source.parent().unwrap()).unwrap();
    fs::write(&source, "x = 1\n").unwrap();
    let mode = if hashed { "CHECKED_HASH" } else { "TIMESTAMP" };
    let script = format!(
        "import py_compile\nprint(py_compile.compile({:?}, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.{mode}))",
        source.to_str().unwrap()
    );
    let out = support::python_output(&support::python3(), &script);
    let cache = PathBuf::from(String::from_utf8(out).unwrap().trim());
    (source, cache)
}

/// Makes a FIFO at `path` (nothing ever writes to it).
fn fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn no_command_waits_on_a_fifo_named_or_found() {
    let dir = support::tempdir();
    let named = dir.path().join("named.pyc");
    fifo(&named);
    for command in ["check", "info", "dump", "normalize"] {
        let output = pyc(&[&command, &named]);
        assert_eq!(output.status.code(), Some(1), "{command}");
        let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            said.contains("not a regular file (a FIFO)"),
            "{command}: {said}"
        );
    }
    // A FIFO in a tree, as a walk finds it (or as a swap after the walk leaves it), and a link to a
    // device: the walk does not follow links, and a file it lists is opened without following one.
    let tree = dir.path().join("tree/__pycache__");
    fs::create_dir_all(&tree).unwrap();
    fifo(&tree.join("f.cpython-311.pyc"));
    std::os::unix::fs::symlink("/dev/zero", tree.join("z.cpython-311.pyc")).unwrap();
    // A socket, which no open reaches (ENXIO): still told for what it is.
    let _socket = std::os::unix::net::UnixListener::bind(tree.join("s.cpython-311.pyc")).unwrap();
    let output = pyc(&[&"check", &"--json", &dir.path().join("tree")]);
    let lines = text(&output.stdout);
    assert!(lines.contains("not a regular file (a FIFO)"), "{lines}");
    assert!(lines.contains("not a regular file (a socket)"), "{lines}");
    assert!(!lines.contains("z.cpython-311"), "{lines}");
    let checker = pycmarshal::tools::check::Checker::new().follow_links(false);
    let report = checker.check_path(&tree.join("z.cpython-311.pyc"));
    assert_eq!(report.status().name(), "unreadable");
    assert!(
        report.message().unwrap().contains("symbolic link"),
        "{:?}",
        report.message()
    );
}

#[cfg(unix)]
#[test]
fn a_device_is_not_read_and_a_huge_sparse_file_is_judged_by_its_header_alone() {
    let dir = support::tempdir();
    let device = dir.path().join("zero.pyc");
    std::os::unix::fs::symlink("/dev/zero", &device).unwrap();
    for command in ["check", "info", "dump", "normalize"] {
        let output = pyc(&[&command, &device]);
        assert_eq!(output.status.code(), Some(1), "{command}");
        let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(said.contains("a character device"), "{command}: {said}");
    }
    // 3 GB of zeros (a sparse file: nothing is written): every command says incomplete write.
    let zeros = dir.path().join("zeros.pyc");
    fs::File::create(&zeros).unwrap().set_len(3 << 30).unwrap();
    let output = pyc(&[&"check", &"--json", &zeros]);
    assert!(
        text(&output.stdout).contains("\"status\":\"incomplete-write\""),
        "{}",
        text(&output.stdout)
    );
    for command in ["info", "dump"] {
        let output = pyc(&[&command, &zeros]);
        assert!(
            text(&output.stderr).contains("zero placeholder magic"),
            "{command}: {}",
            text(&output.stderr)
        );
    }
    // 3 GB behind a valid header: the header is shown, the body refused without being read.
    let (_, cache) = compiled(dir.path(), false);
    let big = dir.path().join("big.pyc");
    let mut head = fs::read(&cache).unwrap();
    head.truncate(16);
    fs::write(&big, &head).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let output = pyc(&[&"info", &big]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let output = pyc(&[&"check", &big]);
    assert!(
        text(&output.stdout).contains("input of 2 GiB or more"),
        "{}",
        text(&output.stdout)
    );
}

#[cfg(unix)]
#[test]
fn a_checked_hash_source_is_hashed_as_it_streams_and_a_huge_one_is_refused() {
    let dir = support::tempdir();
    let (source, cache) = compiled(dir.path(), true);
    let report = pycmarshal::tools::check::Checker::new().check_path(&cache);
    assert_eq!(report.status().name(), "ok", "{:?}", report.message());
    // 100 MB of source (sparse): hashed a block at a time, stale.
    fs::OpenOptions::new()
        .write(true)
        .open(&source)
        .unwrap()
        .set_len(100 << 20)
        .unwrap();
    let report = pycmarshal::tools::check::Checker::new().check_path(&cache);
    assert_eq!(report.status().name(), "stale", "{:?}", report.message());
    // 6 GB: more than importlib could read, not hashed at all.
    fs::OpenOptions::new()
        .write(true)
        .open(&source)
        .unwrap()
        .set_len(6 << 30)
        .unwrap();
    let report = pycmarshal::tools::check::Checker::new().check_path(&cache);
    assert_eq!(
        report.status().name(),
        "unreadable",
        "{:?}",
        report.message()
    );
    assert!(
        report.message().unwrap().contains("more than can be read"),
        "{:?}",
        report.message()
    );
    // A FIFO as the source.
    fs::remove_file(&source).unwrap();
    fifo(&source);
    let report = pycmarshal::tools::check::Checker::new().check_path(&cache);
    assert!(
        report.message().unwrap().contains("a FIFO"),
        "{:?}",
        report.message()
    );
}

#[cfg(unix)]
#[test]
fn normalize_writes_a_new_file_and_renames_it_never_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = support::tempdir();
    let (_, cache) = compiled(dir.path(), false);
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o640)).unwrap();
    // A link where the cache is: normalize replaces the link, never writes what it points to.
    let outside = dir.path().join("outside.pyc");
    fs::copy(&cache, &outside).unwrap();
    let before = fs::read(&outside).unwrap();
    let linked = cache.with_file_name("linked.cpython-311.pyc");
    std::os::unix::fs::symlink(&outside, &linked).unwrap();
    // Links planted at every name the old writer could pick (its pid and the next few).
    for pid in 0..64 {
        let name = format!(".m.cpython-311.pyc.{}.tmp", std::process::id() + pid);
        let _ = std::os::unix::fs::symlink(&outside, cache.with_file_name(name));
    }
    for target in [&cache, &linked] {
        let output = pyc(&[&"normalize", target]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let metadata = fs::symlink_metadata(target).unwrap();
        assert!(
            metadata.file_type().is_file(),
            "{} is a regular file",
            target.display()
        );
    }
    assert_eq!(
        fs::read(&outside).unwrap(),
        before,
        "the file a link points to is untouched"
    );
    let mode = fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let left: Vec<_> = fs::read_dir(cache.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".pyc-write"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[cfg(unix)]
#[test]
fn a_module_name_that_is_not_utf8_finds_its_source() {
    use std::os::unix::ffi::OsStrExt;
    let dir = support::tempdir();
    let name = std::ffi::OsStr::from_bytes(b"m\xff");
    let source = dir.path().join(name).with_extension("py");
    fs::write(&source, "x = 1\n").unwrap();
    let cache = dir
        .path()
        .join("__pycache__")
        .join(std::ffi::OsStr::from_bytes(b"m\xff.cpython-311.pyc"));
    fs::create_dir_all(cache.parent().unwrap()).unwrap();
    // python3 compiles it under the name importlib gives it.
    let python = support::python3();
    let status = Command::new(&python.program)
        .args(["-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
        .arg(&source)
        .arg(&cache)
        .status()
        .unwrap();
    assert!(status.success());
    if python.cache_tag != "cpython-311" {
        return; // the name above carries 3.11's tag
    }
    let report = pycmarshal::tools::check::Checker::new().check_path(&cache);
    assert_eq!(report.status().name(), "ok", "{:?}", report.message());
    assert_eq!(report.source.as_deref(), Some(source.as_path()));
}

#[test]
fn nothing_to_check_is_said_and_is_not_success() {
    let dir = support::tempdir();
    let named = dir.path().join("y.pyc");
    fs::create_dir(&named).unwrap();
    let output = pyc(&[&"check", &named]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("nothing to check"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn more_threads_than_can_work_are_not_started() {
    let dir = support::tempdir();
    let (_, cache) = compiled(dir.path(), false);
    let output = pyc(&[&"check", &"-j", &"5000", &cache, &cache]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("2 files"),
        "{}",
        text(&output.stdout)
    );
    let output = pyc(&[&"check", &"-j", &"0", &cache]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_file_read_as_it_grows_is_read_again_and_never_half() {
    // The reader compares the handle's size and times before and after: here a writer appends for
    // the whole read, so every attempt sees it change.
    let dir = support::tempdir();
    let (_, cache) = compiled(dir.path(), false);
    let growing = dir.path().join("growing.pyc");
    fs::copy(&cache, &growing).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (growing, stop) = (growing.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut file = fs::OpenOptions::new().append(true).open(&growing).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                file.write_all(&[0; 64]).unwrap();
                file.flush().unwrap();
            }
        })
    };
    let mut statuses = std::collections::BTreeSet::new();
    // Until it has been caught changing (the writer may not get the core for a while).
    for _ in 0..5_000 {
        let checker = pycmarshal::tools::check::Checker::new().sources(false);
        statuses.insert(checker.check_path(&growing).status().name());
        if statuses.contains("changing") {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    // Before the first write it is ok; trailing bytes are corrupt in a file that stands still; a file
    // that grows while read is changing, or, read whole between two writes, its bytes as they were.
    for status in &statuses {
        assert!(
            ["ok", "changing", "corrupt"].contains(status),
            "{statuses:?}"
        );
    }
    assert!(statuses.contains("changing"), "{statuses:?}");
    let mut file = fs::File::open(&growing).unwrap();
    let mut data = Vec::new();
    file.read_to_end(&mut data).unwrap();
    assert!(data.len() > fs::metadata(&cache).unwrap().len() as usize);
}
