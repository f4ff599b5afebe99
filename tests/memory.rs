//! Memory stays within a small multiple of the input, whatever the input claims or repeats.
//!
//! A counting allocator measures the peak heap of each parse. The worst inputs are the densest: one
//! object per one or two bytes (singletons, empty tuples, references), containers nested one level per
//! byte or two (each open one keeps a frame, a node and, for a code object, its record), and lengths
//! that claim far more than the input holds.

use pycmarshal::{DEFAULT_MAX_DEPTH, Options};
use support::counting::{Counting, bound, one_at_a_time, peak_during};

mod support;

/// The default depth limit: how deep the nesting tests go at most.
const DEPTH: usize = DEFAULT_MAX_DEPTH as usize;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// [`within_bound_with`] for data that nests at most a few levels, read as the newest Python.
#[track_caller]
fn within_bound(name: &str, data: &[u8]) {
    within_bound_with(name, Options::new(), data, 0);
}

/// Each way to parse `data` (strict, tolerant, validate) stays within [`bound`] for data that nests
/// `levels` deep.
#[track_caller]
fn within_bound_with(name: &str, options: Options, data: &[u8], levels: usize) {
    let _guard = one_at_a_time();
    for (parse, peak) in [
        ("strict", peak_during(|| drop(options.parse_marshal(data)))),
        (
            "tolerant",
            peak_during(|| drop(options.parse_marshal_tolerant(data))),
        ),
        (
            "validate",
            peak_during(|| drop(options.validate_marshal(data))),
        ),
    ] {
        println!(
            "{name} ({} bytes), {parse}: peak {peak} bytes, {:.1} per input byte",
            data.len(),
            peak as f64 / data.len() as f64
        );
        assert!(
            peak <= bound(data.len(), levels),
            "{name}: {parse} parse peaked at {peak} bytes for {} input bytes",
            data.len()
        );
    }
}

/// A list of `n` items, each `item`.
fn list_of(n: usize, item: &[u8]) -> Vec<u8> {
    let mut data = vec![b'['];
    data.extend((n as u32).to_le_bytes());
    for _ in 0..n {
        data.extend(item);
    }
    data
}

const N: usize = 1 << 20;

#[test]
fn a_million_singletons() {
    within_bound("singletons", &list_of(N, b"N"));
}

#[test]
fn a_million_empty_tuples() {
    within_bound("empty tuples", &list_of(N, b")\x00"));
}

#[test]
fn a_million_flagged_empty_tuples() {
    within_bound("flagged empty tuples", &list_of(N, b"\xa9\x00"));
}

#[test]
fn a_million_empty_dicts() {
    // Each keeps its terminating NULL, as an item, beside its node.
    within_bound("empty dicts", &list_of(N, b"{0"));
    within_bound("flagged empty dicts", &list_of(N, b"\xfb\xb0"));
}

#[test]
fn a_million_back_references() {
    let mut data = list_of(N, b"r\x00\x00\x00\x00");
    data[0] |= 0x80; // the list itself is slot 0
    within_bound("back-references", &data);
}

#[test]
fn nested_dicts_to_the_depth_limit_and_beyond() {
    within_bound_with("nested dicts", Options::new(), &b"{".repeat(N), DEPTH);
}

#[test]
fn lengths_that_claim_gigabytes() {
    within_bound("huge string", b"s\xff\xff\xff\x7fabc");
    within_bound("huge tuple", b"(\xff\xff\xff\x7fN");
    within_bound("huge long", b"l\xff\xff\xff\x3f\x01\x00");
    within_bound("many huge tuples", &list_of(N / 8, b"(\xff\xff\xff\x7f"));
}

#[test]
fn nested_containers_each_claiming_the_rest_of_the_input() {
    // Every level claims as many items as bytes remain: alone each claim fits, together they cannot.
    let levels = 20_000;
    let mut data = Vec::new();
    for level in 0..levels {
        let rest = (levels - level) * 5;
        data.push(b'(');
        data.extend((rest as u32).to_le_bytes());
    }
    within_bound_with("nested claims", Options::new(), &data, DEPTH);
}

/// As [`within_bound`], for the marshal of another implementation (`python`).
#[track_caller]
fn within_bound_as(name: &str, python: pycmarshal::Python, data: &[u8]) {
    within_bound_with(name, Options::new().python(python), data, DEPTH);
}

/// A GraalPy array of element type `kind` with `n` elements, each `item`.
fn graalpy_array(kind: u8, n: usize, item: &[u8]) -> Vec<u8> {
    let mut data = vec![b']', kind];
    data.extend((n as u32).to_le_bytes());
    for _ in 0..n {
        data.extend(item);
    }
    data
}

#[test]
fn the_densest_graalpy_and_rustpython_data() {
    use pycmarshal::{Implementation, Python};
    let graalpy = Python {
        implementation: Implementation::GraalPy,
        major: 3,
        minor: 11,
    };
    let rustpython = Python {
        implementation: Implementation::RustPython,
        major: 3,
        minor: 13,
    };
    // Flagged singletons take a slot in GraalPy.
    within_bound_as(
        "graalpy flagged singletons",
        graalpy,
        &graalpy_array(b'o', N, b"\xce"),
    );
    within_bound_as(
        "graalpy booleans",
        graalpy,
        &graalpy_array(b'B', N, b"\x01"),
    );
    within_bound_as(
        "graalpy empty strings",
        graalpy,
        &graalpy_array(b'S', N, &[0; 4]),
    );
    within_bound_as("graalpy ints", graalpy, &graalpy_array(b'i', N, &[0; 4]));
    within_bound_as("graalpy huge array", graalpy, b"]d\xff\xff\xff\x7f");
    let nested: Vec<u8> = (0..20_000u32)
        .flat_map(|level| {
            [
                b"]o".to_vec(),
                ((20_000 - level) * 6).to_le_bytes().to_vec(),
            ]
        })
        .flatten()
        .collect();
    within_bound_as("graalpy nested claims", graalpy, &nested);
    within_bound_as(
        "rustpython empty tuples",
        rustpython,
        &list_of(N, b"(\0\0\0\0"),
    );
    within_bound_as("rustpython huge dict", rustpython, b"{\xff\xff\xff\xffN");
}

#[test]
fn each_level_of_nesting_costs_a_few_hundred_bytes_at_most() {
    use pycmarshal::CodeLayout;
    let code_3_11 = [&b"c"[..], &[0; 20]].concat();
    for (name, layout, level) in [
        ("dicts", CodeLayout::V3_11, &b"{"[..]),
        ("1-tuples", CodeLayout::V3_11, b")\x01"),
        ("flagged 1-lists", CodeLayout::V3_11, b"\xdb\x01\0\0\0"),
        ("Python 1.0 code objects", CodeLayout::V1_0, b"C"),
        ("Python 3.11 code objects", CodeLayout::V3_11, &code_3_11),
    ] {
        for depth in [DEPTH, 100_000] {
            let options = Options::new().code_layout(layout).max_depth(depth as u32);
            let name = format!("{name}, {depth} deep");
            within_bound_with(&name, options, &level.repeat(depth), depth);
        }
    }
}

/// Counts what is written to it, keeping nothing.
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The tools that write what they walk (the JSON form, the dump) keep one cursor per open container:
/// their memory is the nesting, not the size (the table they walk is the parse's, measured above).
#[test]
fn the_json_form_and_the_dump_take_memory_for_nesting_not_for_size() {
    use pycmarshal::tools::{dump, json};
    let _guard = one_at_a_time();
    let nested = {
        let mut data = b")\x01".repeat(DEPTH - 1);
        data.push(b'N');
        data
    };
    for (name, data, levels) in [
        ("singletons", list_of(N, b"N"), 1),
        ("flagged empty dicts", list_of(N, b"\xfb\xb0"), 2),
        ("back-references", list_of(N, b"r\x00\x00\x00\x00"), 1),
        ("nested 1-tuples", nested, DEPTH),
    ] {
        let mut data = data;
        if name == "back-references" {
            data[0] |= 0x80;
        }
        let objects = Options::new().parse_marshal(&data).unwrap();
        let root = objects.root().unwrap();
        let json = peak_during(|| json::write_node(&mut Count(0), root).unwrap());
        let layout = dump::Layout { offsets: true };
        let shown = peak_during(|| dump::write_object(&mut Count(0), root, layout).unwrap());
        println!(
            "{name} ({} bytes): JSON {json} bytes, dump {shown} bytes",
            data.len()
        );
        let bound = 64 * 1024 + 256 * levels;
        assert!(json <= bound, "{name}: JSON took {json} bytes");
        assert!(shown <= bound, "{name}: dump took {shown} bytes");
    }
}

/// Normalizing keeps a fixed record per object, each distinct value's key once, and a cursor per open
/// container of its walks.
fn normalize_bound(input: usize, levels: usize) -> usize {
    48 * input + 64 * 1024 + 256 * levels
}

#[test]
fn normalizing_takes_memory_linear_in_the_input() {
    use pycmarshal::write::normalize;
    let _guard = one_at_a_time();
    let distinct_ints: Vec<u8> = {
        let mut data = vec![b'['];
        data.extend((N as u32 / 4).to_le_bytes());
        for i in 0..N as u32 / 4 {
            data.push(b'i');
            data.extend(i.to_le_bytes());
        }
        data
    };
    for (name, data, levels) in [
        ("empty tuples", list_of(N, b")\x00"), 2),
        ("singletons", list_of(N, b"N"), 1),
        ("flagged empty dicts", list_of(N, b"\xfb\xb0"), 2),
        ("distinct ints", distinct_ints, 1),
        (
            "1-tuples nested",
            {
                let mut data = b")\x01".repeat(DEPTH - 1);
                data.push(b'N');
                data
            },
            DEPTH,
        ),
    ] {
        let objects = Options::new().parse_marshal(&data).unwrap();
        let mut out = Vec::with_capacity(4 * data.len() + 16);
        let peak = peak_during(|| drop(normalize::write_marshal(&mut out, &objects)));
        println!(
            "{name} ({} bytes): normalize {peak} bytes, {:.1} per input byte",
            data.len(),
            peak as f64 / data.len() as f64
        );
        assert!(
            peak <= normalize_bound(data.len(), levels),
            "{name}: {peak} bytes"
        );
    }
}

#[test]
fn inference_and_checking_take_what_a_parse_takes() {
    use pycmarshal::tools::{check::Checker, infer};
    let _guard = one_at_a_time();
    let data = list_of(N, b")\x00");
    let peak = peak_during(|| drop(infer::infer_pyc(&data)));
    println!("infer ({} bytes): {peak} bytes", data.len());
    assert!(peak <= bound(data.len(), DEPTH), "infer: {peak} bytes");
    // A check reads the file once and validates it: the file's size and a little more.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.pyc");
    let mut file = b"\xa7\x0d\x0d\x0a\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
    file.extend(&data);
    std::fs::write(&path, &file).unwrap();
    let peak = peak_during(|| drop(Checker::new().check_path(&path)));
    println!("check ({} bytes): {peak} bytes", file.len());
    assert!(peak <= file.len() + 64 * 1024, "check: {peak} bytes");
}

/// A pyc of python3's: the code object `script` leaves in `co`, after python3's header.
fn python3_pyc(script: &str) -> Vec<u8> {
    let script = format!(
        "import importlib.util, marshal, sys\n{script}\nsys.stdout.buffer.write(importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(co))"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 must be on PATH: it is the tests' oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The disassembly keeps its memory and its output linear in the file: for code objects nested 900
/// deep (whose paths, stored whole, would take 900² steps), for one long constant and one long name
/// that 50 000 instructions each name, and for a long name and file name that 20 000 code objects
/// share (each value rendered once per file, cut at a cap).
#[test]
fn the_disassembly_stays_linear_in_the_file() {
    use pycmarshal::tools::dis;
    let nested = python3_pyc(
        "co = compile('pass', 'f', 'exec')
for i in range(900):
    co = co.replace(co_consts=(co,), co_qualname='f%d' % i)",
    );
    let repeated = python3_pyc(
        "import opcode
load, name = opcode.opmap['LOAD_CONST'], opcode.opmap['LOAD_NAME']
co = compile('pass', 'f', 'exec')
code = bytes([load, 0, name, 0] * 25000)
co = co.replace(co_code=code, co_consts=('x' * 100000,), co_names=('y' * 100000,))",
    );
    // 20 000 code objects sharing one 100 KB file name and one 100 KB name (back-references).
    let shared = python3_pyc(
        "long = 'f' * 100000
inner = compile('pass', 'f', 'exec').replace(co_filename=long, co_name=long, co_qualname=long)
codes = tuple(inner.replace(co_firstlineno=i + 1) for i in range(20000))
co = compile('pass', 'f', 'exec').replace(co_consts=codes, co_filename=long)",
    );
    let _guard = one_at_a_time();
    for (name, data, levels) in [
        ("nested code", nested, 1800),
        ("repeated long values", repeated, 2),
        ("shared long names", shared, 2),
    ] {
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let root = pyc.objects.root().unwrap();
        let (mut text, mut json) = (Count(0), Count(0));
        let text_peak = peak_during(|| drop(dis::write_text(&mut text, root)));
        let json_peak = peak_during(|| drop(dis::write_json(&mut json, None, Some(root), None)));
        println!(
            "{name} ({} bytes): text {} bytes out, peak {text_peak}; JSON {} bytes out, peak {json_peak}",
            data.len(),
            text.0,
            json.0
        );
        for (what, out, peak) in [("text", text.0, text_peak), ("JSON", json.0, json_peak)] {
            assert!(
                out <= 64 * data.len() + 4096,
                "{name}: {what} wrote {out} bytes"
            );
            assert!(
                peak <= bound(data.len(), levels),
                "{name}: {what} peaked at {peak} bytes"
            );
        }
    }
}
