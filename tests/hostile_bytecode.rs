//! The bytecode layer's promises (README "Guarantees", the disassembly) held against hostile files:
//! the disassembly writes at most 64 bytes per input byte and stays within the parse's memory bound,
//! the work it and `check --deep` do stays linear in the file however its objects are shared, and
//! every fault is located at the damaged byte or entry, with its kind and its path. Each file is built
//! by a real interpreter (`marshal.dumps` of `code.replace(...)`), so it is exactly what that
//! interpreter would write; where the expected offset is asserted, it is found in the file's bytes
//! independently of the parser.
//!
//! No test times anything: work is bounded by what it leaves behind that can be counted (output
//! bytes, peak heap, and the bytes allocated in all, which grow with each table built or value
//! rendered again).

mod support;

use pycmarshal::tools::dis;
use pycmarshal::{Bytecode, ErrorKind};
use support::Interpreter;
use support::counting::{Counting, bound, measure};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A writer that only counts.
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The pyc `python` writes for the code object `script` leaves in `co` (`opcode` is imported as
/// `op = opcode.opmap`; `cover(n)` is a 3.11+ location table of entries without positions covering
/// `n` code units; `ranges(n)` a 3.10 line table covering `n` bytes on one line).
fn pyc_of(python: &Interpreter, script: &str) -> Vec<u8> {
    let script = format!(
        "import importlib.util, marshal, sys, opcode\n\
         op = opcode.opmap\n\
         def cover(n):\n    return b'\\xff' * (n // 8) + (bytes([0xf8 | (n % 8 - 1)]) if n % 8 else b'')\n\
         def ranges(n):\n    out = b''\n    while n:\n        step = min(254, n); out += bytes([step, 0]); n -= step\n    return out\n\
         {script}\n\
         header = bytes(12 if sys.version_info >= (3, 7) else 8)\n\
         sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER + header + marshal.dumps(co))"
    );
    support::python_output(python, &script)
}

/// `replace(code, **fields)`: `code.replace` where there is one (3.8+), the `CodeType` constructor of
/// 2.7, 3.6 and 3.7 otherwise (`sys` is imported).
const REPLACE: &str = "import sys
def replace(code, **fields):
    if hasattr(code, 'replace'):
        return code.replace(**fields)
    names = ['argcount'] + (['kwonlyargcount'] if sys.version_info[0] > 2 else []) + [
        'nlocals', 'stacksize', 'flags', 'code', 'consts', 'names', 'varnames', 'filename', 'name',
        'firstlineno', 'lnotab', 'freevars', 'cellvars']
    return type(code)(*[fields.get('co_' + n, getattr(code, 'co_' + n)) for n in names])";

fn pyc_2_7(script: &str) -> Option<Vec<u8>> {
    let python = support::oracle_interpreter("2.7", "hostile_bytecode")?;
    let script = format!(
        "import imp, marshal, sys, types\n{script}\nsys.stdout.write(imp.get_magic() + b'\\0' * 4 + marshal.dumps(co))"
    );
    Some(support::python_output(&python, &script))
}

/// What disassembling `data` cost, in each form and for `check --deep`'s verification.
#[derive(Debug)]
struct Costs {
    text: usize,
    text_peak: usize,
    text_total: usize,
    json: usize,
    json_peak: usize,
    json_total: usize,
    verify_peak: usize,
    verify_total: usize,
}

fn costs(data: &[u8]) -> Costs {
    let pyc = pycmarshal::parse_pyc(data).unwrap();
    let root = pyc.objects.root().unwrap();
    let (mut text, mut json) = (Count(0), Count(0));
    let (text_peak, text_total) = measure(|| drop(dis::write_text(&mut text, root)));
    let (json_peak, json_total) =
        measure(|| drop(dis::write_json(&mut json, None, Some(root), None)));
    let (verify_peak, verify_total) = measure(|| drop(dis::verify_all(root)));
    Costs {
        text: text.0,
        text_peak,
        text_total,
        json: json.0,
        json_peak,
        json_total,
        verify_peak,
        verify_total,
    }
}

/// The most the disassembly writes for one instruction (README, "Guarantees"): the text's line is
/// at most 180 bytes beside the name (20-digit line, 10-digit offset and argument, two values of 60
/// and their `...`), the JSON's at most 2 051 bytes of value (two of 1 024) and 107 of fields beside
/// the name; no opcode name passes 44 bytes.
const TEXT_PER_INSTRUCTION: usize = 230;
const JSON_PER_INSTRUCTION: usize = 2210;

/// The instructions of the file's code: each `co_code` once, however many code objects share it.
fn instructions_in(data: &[u8]) -> usize {
    let pyc = pycmarshal::parse_pyc(data).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    dis::code_objects(pyc.objects.root().unwrap())
        .iter()
        .filter(|located| {
            let co_code = located.code.get("co_code").map(|c| c.resolve().id());
            seen.insert(co_code)
        })
        .map(|located| located.code.instructions().count())
        .sum()
}

/// The disassembly's promises for `data`, which nests `levels` deep: at most 64 bytes out per byte
/// in plus a line per instruction of the file's code, a peak within the parse's bound, and no more
/// allocated in all than a linear walk would (the same bound again: a table built or a value
/// rendered once per use rather than once per file passes it at once).
#[track_caller]
fn within_promises(name: &str, data: &[u8], levels: usize) {
    let c = costs(data);
    let len = data.len();
    let instructions = instructions_in(data);
    println!("{name} ({len} bytes, {instructions} instructions): {c:?}");
    let mut broken = Vec::new();
    for (what, out, per_instruction) in [
        ("text", c.text, TEXT_PER_INSTRUCTION),
        ("JSON", c.json, JSON_PER_INSTRUCTION),
    ] {
        let most = 64 * len + 4096 + per_instruction * instructions;
        if out > most {
            broken.push(format!("{what} wrote {out} bytes, more than {most}"));
        }
    }
    for (what, peak, total) in [
        ("text", c.text_peak, c.text_total),
        ("JSON", c.json_peak, c.json_total),
        ("verify", c.verify_peak, c.verify_total),
    ] {
        if peak > bound(len, levels) {
            broken.push(format!("{what} peaked at {peak} bytes"));
        }
        if total > 2 * bound(len, levels) {
            broken.push(format!("{what} allocated {total} bytes in all"));
        }
    }
    assert!(
        broken.is_empty(),
        "{name} ({len} bytes): {}",
        broken.join(", ")
    );
}

/// A 3.11 location table may claim up to eight code units a byte (`0xff`: eight units, no
/// position), whatever `co_code` holds: the positions of code that is not there cost nothing.
#[test]
fn a_location_table_claiming_more_code_than_there_is_costs_nothing() {
    let python = support::python3();
    if python.python().minor < 11 {
        return eprintln!("SKIPPED: python3 is older than 3.11");
    }
    let data = pyc_of(
        &python,
        "co = compile('x = 1', 'f', 'exec').replace(co_linetable=b'\\xff' * 100000)",
    );
    within_promises("location table of 800 000 units", &data, 2);
}

/// A location table of one-byte entries, one a code unit, each with a line of its own: the listing
/// keeps what it shows, not more.
#[test]
fn a_location_table_of_one_byte_entries_stays_within_the_bound() {
    let python = support::python3();
    if python.python().minor < 11 {
        return eprintln!("SKIPPED: python3 is older than 3.11");
    }
    // 0x80 | 0 << 3: a "short form" entry of one unit needs a second byte; code 10 (one line
    // further, two column bytes) takes three. Code 15 (no position) is the densest: one byte.
    let data = pyc_of(
        &python,
        "code = bytes([op['NOP'], 0] * 100000 + [op['RETURN_CONST'] if 'RETURN_CONST' in op else op['RETURN_VALUE'], 0])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_consts=(None,), co_names=(),
    co_linetable=b'\\xd0\\x00\\x00' * (len(code) // 2), co_exceptiontable=b'')",
    );
    within_promises("100 000 one-unit entries, a line each", &data, 2);
}

/// The API on the same hostile tables: positions are one a code unit of the code there is, and the
/// ranges and line starts cost what they hold.
#[test]
fn the_table_api_takes_memory_for_the_code_not_for_what_the_table_claims() {
    let python = support::python3();
    if python.python().minor < 11 {
        return eprintln!("SKIPPED: python3 is older than 3.11");
    }
    let data = pyc_of(
        &python,
        "co = compile('x = 1', 'f', 'exec').replace(co_linetable=b'\\xff' * 100000)",
    );
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let code = pyc.code().unwrap();
    let code_units = code.bytecode().unwrap().len() / 2;
    let mut positions = 0;
    let (peak, _) = measure(|| positions = code.positions().map_or(0, |p| p.len()));
    println!(
        "positions: {positions} for {code_units} code units, peak {peak} bytes ({} input bytes)",
        data.len()
    );
    assert!(
        peak <= bound(data.len(), 2),
        "positions() of a {}-byte file peaked at {peak} bytes",
        data.len()
    );
    // `co_lines()` gives the ranges the table claims, past the code too: at most one a byte of the
    // table, 24 bytes each, in a vector that may have doubled.
    let calls: [(&str, &dyn Fn(), usize); 3] = [
        ("lines", &|| drop(code.lines()), 48 * data.len() + 64 * 1024),
        (
            "line_starts",
            &|| drop(code.line_starts()),
            bound(data.len(), 2),
        ),
        ("verify", &|| drop(code.verify()), bound(data.len(), 2)),
    ];
    for (what, f, most) in calls {
        let (peak, _) = measure(f);
        println!("{what}: peak {peak} bytes");
        assert!(peak <= most, "{what}: peak {peak} bytes, more than {most}");
    }
}

/// A name just under the JSON form's cap (1 024 characters), named by every other instruction, is
/// written whole at each: the output grows with the cap, within the bound per instruction.
#[test]
fn a_name_under_the_cap_named_by_every_instruction_stays_within_the_output_bound() {
    let python = support::python3();
    let data = pyc_of(
        &python,
        "code = bytes([op['LOAD_NAME'], 0, op['POP_TOP'], 0] * 20000 + [op['LOAD_CONST'], 0, op['RETURN_VALUE'], 0])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_names=('n' * 1000,), co_consts=(None,))
if sys.version_info >= (3, 11):
    co = co.replace(co_linetable=cover(len(code) // 2), co_exceptiontable=b'')",
    );
    within_promises("a 1000-character name, 20 000 times", &data, 2);
}

/// 3.13's `LOAD_FAST_LOAD_FAST` names two locals in two bytes: two names at the text's cap (60
/// characters) each time.
#[test]
fn two_locals_in_every_two_bytes_stay_within_the_output_bound() {
    let Some(python) = support::oracle_interpreter("3.13", "two_locals_in_every_two_bytes") else {
        return;
    };
    let data = pyc_of(
        &python,
        "code = bytes([op['RESUME'], 0] + [op['LOAD_FAST_LOAD_FAST'], 1] * 50000 + [op['RETURN_CONST'], 0])
f = compile('def f(a, b): pass', 'f', 'exec').co_consts[0]
co = f.replace(co_code=code, co_varnames=('a' * 60, 'b' * 60), co_consts=(None,),
               co_linetable=cover(len(code) // 2), co_exceptiontable=b'')",
    );
    within_promises("LOAD_FAST_LOAD_FAST of 60-character names", &data, 2);
}

/// Before 3.6 an instruction without an argument is one byte: the densest code there is.
#[test]
fn one_byte_instructions_stay_within_the_bound() {
    let Some(data) = pyc_2_7(
        "co = types.CodeType(0, 0, 1, 0, b'\\x09' * 200000 + b'd\\x00\\x00S', (None,), (), (), 'f', '<module>', 1, b'')",
    ) else {
        return;
    };
    within_promises("200 000 NOPs of Python 2.7", &data, 2);
}

/// A valid 3.12 file (`check --deep` passes it) whose instructions all name the longest intrinsic.
#[test]
fn a_valid_file_of_intrinsics_stays_within_the_output_bound() {
    let Some(python) = support::oracle_interpreter("3.12", "a_valid_file_of_intrinsics") else {
        return;
    };
    let data = pyc_of(
        &python,
        "code = bytes([op['RESUME'], 0] + [op['CALL_INTRINSIC_1'], 3] * 100000 + [op['RETURN_CONST'], 0])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_consts=(None,), co_names=(),
    co_linetable=cover(len(code) // 2), co_exceptiontable=b'')",
    );
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    dis::verify_all(pyc.objects.root().unwrap()).unwrap();
    within_promises(
        "100 000 CALL_INTRINSIC_1 INTRINSIC_STOPITERATION_ERROR",
        &data,
        2,
    );
}

/// 3.10 code objects whose `co_code`, line table and tables are one object each, written once and
/// referred to by every code object (`marshal.dumps` shares them: they are the same objects).
fn shared_code_3_10(objects: usize, nops: usize) -> Option<Vec<u8>> {
    let python = support::oracle_interpreter("3.10", "shared co_code")?;
    Some(pyc_of(
        &python,
        &format!(
            "code = bytes([op['NOP'], 0] * {nops} + [op['LOAD_CONST'], 0, op['RETURN_VALUE'], 0])
table = ranges(len(code))
f = compile('def f(): pass', 'f', 'exec').co_consts[0]
functions = tuple(f.replace(co_code=code, co_linetable=table, co_consts=(None,), co_firstlineno=i + 1)
                  for i in range({objects}))
co = compile('x = 1', 'f', 'exec').replace(co_consts=functions + (None,))"
        ),
    ))
}

/// Each code object's fields may be references to another's. CPython's files share the `co_code` of
/// functions whose bytecode is the same, and those are listed whole, while the bytecode listed stays
/// within the file's size; past that, a code object that shares a `co_code` says whose it is.
#[test]
fn a_co_code_shared_by_many_code_objects_is_not_listed_for_each() {
    let Some(data) = shared_code_3_10(200, 5000) else {
        return;
    };
    within_promises("200 code objects sharing a 10 KB co_code", &data, 4);
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let mut json = String::new();
    dis::write_json(&mut json, None, pyc.objects.root(), None).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let functions = &json["code"].as_array().unwrap()[1..];
    let whole = functions
        .iter()
        .filter(|code| code["shared_code"].is_null())
        .inspect(|code| assert_eq!(code["instructions"].as_array().unwrap().len(), 5002))
        .count();
    let shared = functions
        .iter()
        .filter(|code| code["shared_code"] == 1 && code["instructions"] == serde_json::json!([]))
        .count();
    assert_eq!((whole + shared, functions.len()), (200, 200));
    assert!(
        whole >= 1 && whole * 10_004 <= data.len(),
        "{whole} listed whole, for a file of {} bytes",
        data.len()
    );
    let mut text = String::new();
    let fault = dis::write_text(&mut text, pyc.objects.root().unwrap()).unwrap();
    assert!(fault.is_none(), "{fault:?}");
    let note = "  (its co_code is that of <code object f, file \"f\", line 1>, listed above)\n";
    assert_eq!(text.matches(note).count(), shared);
}

/// Code objects that share a `co_code` but whose tables have different lengths verify differently,
/// each in full: past the budget of the file's own size (which a file whose code objects hold their
/// own bytecode never reaches), `check --deep` refuses such a file with a typed error rather than
/// spend the square of its size.
#[test]
fn sharing_a_co_code_among_code_objects_with_tables_of_many_lengths_is_refused() {
    let Some(python) = support::oracle_interpreter("3.10", "shared co_code, many tables") else {
        return;
    };
    let data = pyc_of(
        &python,
        "code = bytes([op['NOP'], 0] * 5000 + [op['LOAD_CONST'], 0, op['RETURN_VALUE'], 0])
table = ranges(len(code))
f = compile('def f(): pass', 'f', 'exec').co_consts[0]
functions = tuple(f.replace(co_code=code, co_linetable=table, co_consts=(None,) * (i % 500 + 1))
                  for i in range(1000))
co = compile('x = 1', 'f', 'exec').replace(co_consts=functions + (None,))
marshal.loads(marshal.dumps(co))  # CPython loads it: it is well formed",
    );
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let root = pyc.objects.root().unwrap();
    let mut result = Ok(());
    let (_, total) = measure(|| result = dis::verify_all(root));
    let error = result.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Unsupported(_)), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("cannot verify the bytecode: its code objects share bytecode"),
        "{error}"
    );
    assert!(
        total <= 2 * bound(data.len(), 4),
        "verifying a {}-byte file allocated {total} bytes in all",
        data.len()
    );
}

/// A line table that many code objects share (marshal writes it once), beside a `co_code` of two
/// instructions, is walked whole for each code object whose tables differ: the budget counts the
/// tables' bytes too, so `check --deep` refuses the file (typed, at once) instead of walking the
/// table a thousand times, in the skim and in the parse alike; code objects whose tables agree
/// still verify once and pass.
#[test]
fn sharing_a_long_line_table_among_code_objects_with_tables_of_many_lengths_is_refused() {
    let Some(python) = support::oracle_interpreter("3.8", "shared line table, many tables") else {
        return;
    };
    let file = |lengths: usize| {
        pyc_of(
            &python,
            &format!(
                "code = bytes([op['LOAD_CONST'], 0, op['RETURN_VALUE'], 0])
table = bytes([0, 1] * 50000)
f = compile('def f(): pass', 'f', 'exec').co_consts[0]
functions = tuple(f.replace(co_code=code, co_lnotab=table, co_consts=(None,) * (i % {lengths} + 1))
                  for i in range(1000))
co = compile('x = 1', 'f', 'exec').replace(co_consts=functions + (None,))
marshal.loads(marshal.dumps(co))  # CPython loads it: it is well formed"
            ),
        )
    };
    let deep = pycmarshal::tools::check::Checker::new()
        .sources(false)
        .deep(true);
    let path = std::path::Path::new("f.cpython-38.pyc");
    let refused = deep.check_bytes(path, &file(500));
    let message = refused.message().unwrap_or_default();
    assert!(
        message.contains("cannot verify the bytecode: its code objects share bytecode or tables"),
        "{message}"
    );
    let alike = deep.check_bytes(path, &file(1));
    assert_eq!(alike.message(), None);
}

/// `check --deep` verifies a `co_code` that many code objects share once: each verification takes a
/// bit a byte of the code (where instructions start), so verifying it for each code object would
/// allocate a multiple of the file (here 3000 verifications of 100 KB, 37 MB, for a 220 KB file).
#[test]
fn verifying_code_objects_that_share_their_co_code_allocates_for_one() {
    let Some(data) = shared_code_3_10(3000, 50000) else {
        return;
    };
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let root = pyc.objects.root().unwrap();
    let mut result = Ok(());
    let (peak, total) = measure(|| result = dis::verify_all(root));
    println!(
        "verify ({} bytes): peak {peak}, {total} allocated in all",
        data.len()
    );
    result.unwrap();
    assert!(
        total <= 2 * bound(data.len(), 4),
        "verifying a {}-byte file allocated {total} bytes in all",
        data.len()
    );
}

/// A 3.7 lnotab shared by many code objects (a reference in each), whose line starts (3.7's
/// `dis.findlinestarts` does not stop at the code's end) pass the code: the listing ends at the
/// first code object, whose table does not fit its code, so the table is listed once. (A table that
/// fits takes no more line starts than its code has bytes.)
#[test]
fn a_line_table_shared_by_many_code_objects_that_does_not_fit_is_listed_once() {
    let Some(python) = support::oracle_interpreter("3.7", "shared lnotab") else {
        return;
    };
    let data = pyc_of(
        &python,
        &format!(
            "{REPLACE}
table = bytes(bytearray([2, 1] * 50000))
f = compile('def f(): pass', 'f', 'exec').co_consts[0]
functions = tuple(replace(f, co_lnotab=table, co_firstlineno=i + 1) for i in range(200))
co = replace(compile('x = 1', 'f', 'exec'), co_consts=functions + (None,))"
        ),
    );
    within_promises("200 code objects sharing a 100 KB lnotab", &data, 4);
}

/// Many code objects sharing one long `co_consts` (a reference each): finding where a long value
/// stands, and finding the code objects among the constants, walk the table once, not once per code
/// object.
#[test]
fn a_long_table_shared_by_many_code_objects_is_walked_once() {
    let python = support::python3();
    let data = pyc_of(
        &python,
        "consts = (None,) * 20000 + ('c' * 2000,)
code = bytes([op['EXTENDED_ARG'], 20000 >> 8, op['LOAD_CONST'], 20000 & 255, op['RETURN_VALUE'], 0])
f = compile('def f(): pass', 'f', 'exec').co_consts[0]
if sys.version_info >= (3, 11):
    code = bytes([op['RESUME'], 0]) + code
    f = f.replace(co_linetable=cover(len(code) // 2), co_exceptiontable=b'')
functions = tuple(f.replace(co_code=code, co_consts=consts, co_firstlineno=i + 1) for i in range(2000))
co = compile('x = 1', 'f', 'exec').replace(co_consts=functions + (None,))",
    );
    within_promises(
        "2000 code objects sharing a 20 001-constant co_consts",
        &data,
        4,
    );
}

/// A long integer shared by many code objects (a reference in each `co_consts`) is rendered once
/// per file, not once per code object.
#[test]
fn a_long_shared_by_many_code_objects_is_rendered_once() {
    let python = support::python3();
    let data = pyc_of(
        &python,
        "f = compile('def f(): return 1', 'f', 'exec').co_consts[0]
consts = tuple(c if c != 1 else 7 ** 5000 for c in f.co_consts)
if consts == f.co_consts:
    consts = (None, 7 ** 5000)
# a tuple of its own in each (written whole), its long a reference to the first's
functions = tuple(f.replace(co_consts=tuple(list(consts)), co_firstlineno=i + 1) for i in range(2000))
co = compile('x = 1', 'f', 'exec').replace(co_consts=functions + (None,))",
    );
    within_promises("a 14 000-bit long in 2000 code objects", &data, 4);
}

/// The same code object named by many constants is listed once.
#[test]
fn a_code_object_referenced_many_times_is_listed_once() {
    let python = support::python3();
    let data = pyc_of(
        &python,
        "f = compile('def f():\\n    for i in range(10):\\n        print(i)\\n', 'f', 'exec').co_consts[0]
co = compile('x = 1', 'f', 'exec').replace(co_consts=(f,) * 100000 + (None,))",
    );
    within_promises("one code object, 100 000 references", &data, 4);
}

/// A 3.11 function with a try/except: its bytes, the offsets of its `co_exceptiontable` and of each
/// entry (found in the file's bytes: the table's bytes, as the interpreter gives them, occur once).
fn with_handlers() -> Option<(Vec<u8>, usize, Vec<usize>)> {
    let python = support::python3();
    if python.python().minor != 11 {
        eprintln!("SKIPPED: python3 is not 3.11");
        return None;
    }
    let source = "def f(a):\\n    try:\\n        return a.b\\n    except E:\\n        return 2\\n";
    let data = pyc_of(&python, &format!("co = compile('{source}', 'f', 'exec')"));
    let table = support::python_output(
        &python,
        &format!(
            "import sys; sys.stdout.write(compile('{source}', 'f', 'exec').co_consts[0].co_exceptiontable.hex())"
        ),
    );
    let table = support::unhex(std::str::from_utf8(&table).unwrap());
    let base = find_once(&data, &table);
    let entries = (0..table.len()).filter(|&i| table[i] & 0x80 != 0).collect();
    Some((data, base, entries))
}

/// Where `needle` occurs in `haystack`; it must occur once.
#[track_caller]
fn find_once(haystack: &[u8], needle: &[u8]) -> usize {
    let at: Vec<usize> = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "{needle:02x?} occurs {} times", at.len());
    at[0]
}

fn deep_fault(data: &[u8]) -> pycmarshal::Error {
    let pyc = pycmarshal::parse_pyc(data).unwrap();
    dis::verify_all(pyc.objects.root().unwrap()).unwrap_err()
}

/// An entry whose handler is past the code is located at that entry, not at the table's start.
#[test]
fn a_handler_past_the_code_is_located_at_its_entry() {
    let Some((mut data, base, entries)) = with_handlers() else {
        return;
    };
    let last = *entries.last().unwrap();
    data[base + last + 2] = 0x3f; // the target: 126 bytes, past the code
    let error = deep_fault(&data);
    assert_eq!(*error.kind(), ErrorKind::BadExceptionTable);
    assert_eq!(
        error.offset(),
        (base + last) as u64,
        "{error} (the table starts at {base}, the entry at {})",
        base + last
    );
    assert_eq!(
        error.context().to_string(),
        format!("co_consts[0].co_exceptiontable[{last}]: entry")
    );
}

/// A varint of more than 32 bits is located at the byte that overflows it, not past it.
#[test]
fn an_exception_table_varint_that_overflows_is_located_where_it_overflows() {
    let Some((mut data, base, entries)) = with_handlers() else {
        return;
    };
    let len = entries.len() * 4; // this table's entries are four bytes each
    assert!(len >= 6);
    data[base..base + len].copy_from_slice(&[&[0xff][..], &vec![0x7f; len - 1]].concat());
    let error = deep_fault(&data);
    assert_eq!(*error.kind(), ErrorKind::BadExceptionTable);
    // 6 bits, then 6 a byte: the sixth byte passes 32 bits.
    assert_eq!(
        error.offset(),
        (base + 5) as u64,
        "{error}: the entry is at {base}, the byte that overflows at {}",
        base + 5
    );
}

/// An argument past its table, in a nested code object, is reported with its kind, at the
/// instruction's byte, on its path from the module.
#[test]
fn an_argument_out_of_range_is_located_at_its_instruction_on_its_path() {
    let python = support::python3();
    // Twenty NOPs, then LOAD_CONST 200 at byte 40, in the fourth constant of the module.
    let script = "f = compile('def f(): pass', 'f', 'exec').co_consts[0]
nop = bytes([op['NOP'], 0]) * 20
code = nop + bytes([op['LOAD_CONST'], 200, op['RETURN_VALUE'], 0])
f = f.replace(co_code=code, co_consts=(None,))
if sys.version_info >= (3, 11):
    f = f.replace(co_linetable=cover(len(code) // 2), co_exceptiontable=b'')
co = compile('x = 1', 'f', 'exec').replace(co_consts=(1, 2, 3, f, None))";
    let data = pyc_of(&python, script);
    let code = [
        support::python_output(
            &python,
            "import opcode, sys; op = opcode.opmap; sys.stdout.buffer.write(bytes([op['NOP'], 0]) * 20 + bytes([op['LOAD_CONST'], 200, op['RETURN_VALUE'], 0]))",
        ),
    ]
    .concat();
    let at = find_once(&data, &code) + 40;
    for error in [deep_fault(&data), {
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        dis::write_text(&mut Count(0), pyc.objects.root().unwrap())
            .unwrap()
            .unwrap()
    }] {
        assert_eq!(
            *error.kind(),
            ErrorKind::ArgumentOutOfRange {
                table: "co_consts",
                index: 200,
                len: 1
            }
        );
        assert_eq!(error.offset(), at as u64, "{error}");
        assert_eq!(
            error.context().to_string(),
            "co_consts[3].co_code[40]: LOAD_CONST argument"
        );
    }
}

/// `EXTENDED_ARG` chains: four prefixes make the argument wrap past 32 bits as CPython's does (it
/// keeps an `int`), and a long chain is a chain of instructions, each its own, not a hang.
#[test]
fn extended_arg_chains_fold_as_the_interpreter_folds_them() {
    let python = support::python3();
    let data = pyc_of(
        &python,
        "ext = bytes([op['EXTENDED_ARG'], 0xff])
code = ext * 100000 + bytes([op['NOP'], 0]) + ext * 3 + bytes([op['LOAD_CONST'], 0xff, op['RETURN_VALUE'], 0])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_consts=(None,))
if sys.version_info >= (3, 11):
    co = co.replace(co_linetable=cover(len(code) // 2), co_exceptiontable=b'')",
    );
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let code = pyc.code().unwrap();
    let mut count = 0;
    let mut last = None;
    for instruction in code.instructions() {
        count += 1;
        last = Some(instruction);
    }
    assert_eq!(
        count,
        100000 + 1 + 4,
        "one instruction each, up to the fault"
    );
    let error = last.unwrap().unwrap_err();
    assert_eq!(
        *error.kind(),
        ErrorKind::ArgumentOutOfRange {
            table: "co_consts",
            index: u32::MAX,
            len: 1
        },
        "{error}"
    );
    within_promises("100 000 EXTENDED_ARGs", &data, 2);
}

/// The inline caches after a 3.11+ instruction cut by the end of the code: `instruction-cut` at the
/// instruction's byte, saying how many bytes it needed and had.
#[test]
fn caches_cut_by_the_end_of_the_code_are_an_instruction_cut() {
    let python = support::python3();
    if python.python().minor < 11 {
        return eprintln!("SKIPPED: python3 is older than 3.11");
    }
    let caches = "caches = opcode._inline_cache_entries
n = caches[op['LOAD_GLOBAL']] if isinstance(caches, list) else caches['LOAD_GLOBAL']";
    let script = format!(
        "{caches}
code = bytes([op['RESUME'], 0, op['NOP'], 0, op['LOAD_GLOBAL'], 0]) + bytes(2 * n - 2)
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_names=('g',),
    co_linetable=cover(len(code) // 2), co_exceptiontable=b'')"
    );
    let data = pyc_of(&python, &script);
    let caches: u32 = String::from_utf8(support::python_output(
        &python,
        &format!("import opcode\nop = opcode.opmap\n{caches}\nprint(n)"),
    ))
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let code = pyc.code().unwrap();
    let co_code = code.bytecode().unwrap();
    let start = find_once(&data, co_code);
    let error = code.instructions().last().unwrap().unwrap_err();
    assert_eq!(
        *error.kind(),
        ErrorKind::InstructionCut {
            needed: 2 + 2 * caches,
            left: 2 * caches
        },
        "{error}"
    );
    assert_eq!(error.offset(), (start + 4) as u64);
    assert_eq!(
        error.context().to_string(),
        "co_code[4]: LOAD_GLOBAL instruction"
    );
}

/// A jump into the middle of an instruction (onto a 3.11 cache entry) is a bad jump target, located
/// at the jump.
#[test]
fn a_jump_between_instructions_is_located_at_the_jump() {
    let python = support::python3();
    if python.python().minor != 11 {
        return eprintln!("SKIPPED: python3 is not 3.11");
    }
    // LOAD_GLOBAL (5 cache entries) at 2, then JUMP_BACKWARD 3 at 14: to 16 - 6 = 10, a cache.
    let script = "code = bytes([op['RESUME'], 0, op['LOAD_GLOBAL'], 0] + [0, 0] * 5 + [op['JUMP_BACKWARD'], 3])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_names=('g',),
    co_linetable=cover(len(code) // 2), co_exceptiontable=b'')";
    let data = pyc_of(&python, script);
    let pyc = pycmarshal::parse_pyc(&data).unwrap();
    let co_code = pyc.code().unwrap().bytecode().unwrap().to_vec();
    let start = find_once(&data, &co_code);
    let error = deep_fault(&data);
    assert_eq!(*error.kind(), ErrorKind::BadJumpTarget(10), "{error}");
    assert_eq!(error.offset(), (start + 14) as u64);
    assert_eq!(
        error.context().to_string(),
        "co_code[14]: JUMP_BACKWARD jump"
    );
}

/// lnotabs whose deltas add up past any line or offset: the line starts are the interpreter's own
/// `dis.findlinestarts` (3.8+ stop where the code ends; before, every pair counts), lines saturate
/// rather than wrap, nothing panics or grows past the bound.
#[test]
fn lnotabs_with_huge_deltas_are_read_as_the_interpreter_reads_them() {
    let build = format!(
        "{REPLACE}
co = replace(compile('x = 1', 'f', 'exec'), co_firstlineno=1000, co_lnotab=b'\\xff\\x7f' * 50000)"
    );
    for version in ["2.7", "3.6", "3.7", "3.8", "3.9"] {
        let Some(python) = support::oracle_interpreter(version, "lnotabs with huge deltas") else {
            continue;
        };
        let data = match version {
            "2.7" => pyc_2_7(&build).unwrap(),
            _ => pyc_of(&python, &build),
        };
        let expected = support::python_output(
            &python,
            &format!(
                "{build}\nimport dis\nstarts = list(dis.findlinestarts(co))\nprint('%d %d %d' % (len(starts), starts[-1][0], starts[-1][1]))"
            ),
        );
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let code = pyc.code().unwrap();
        let starts = code.line_starts().unwrap();
        let last = starts.last().unwrap();
        let ours = format!("{} {} {}\n", starts.len(), last.offset, last.line.unwrap());
        assert_eq!(ours, String::from_utf8(expected).unwrap(), "{version}");
        let _ = code.lines().unwrap();
        within_promises(&format!("{version}: 50 000 pairs of 255 bytes"), &data, 2);
    }
}

/// A 3.10 line table of one-byte ranges, a new line each: the listing keeps its line starts and
/// ranges within the bound.
#[test]
fn a_3_10_line_table_of_one_byte_ranges_stays_within_the_bound() {
    let Some(python) = support::oracle_interpreter("3.10", "one-byte ranges") else {
        return;
    };
    let data = pyc_of(
        &python,
        "code = bytes([op['NOP'], 0] * 100000 + [op['LOAD_CONST'], 0, op['RETURN_VALUE'], 0])
co = compile('x = 1', 'f', 'exec').replace(co_code=code, co_consts=(None,), co_linetable=b'\\x01\\x01' * 200000)",
    );
    within_promises("200 000 one-byte ranges", &data, 2);
}

/// Non-UTF-8 names (2.7's byte strings, 3.x's lone surrogates, which marshal writes as they are):
/// the JSON stays JSON, the text is written, nothing panics.
#[test]
fn names_that_are_not_utf8_are_shown_not_trusted() {
    let python = support::python3();
    let modern = pyc_of(
        &python,
        "co = compile('x = 1', 'f', 'exec').replace(co_names=('a\\udcff',), co_name='\\udcfe', co_filename='\\ud800')",
    );
    let old = pyc_2_7(
        "co = compile('x = 1', 'f', 'exec')
co = types.CodeType(0, 0, 1, 0, co.co_code, co.co_consts, ('\\xff\\xfe',), (), '\\x80', '\\xc3', 1, b'')",
    );
    for data in [Some(modern), old].into_iter().flatten() {
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let root = pyc.objects.root().unwrap();
        let mut json = String::new();
        dis::write_json(&mut json, Some(&pyc.header), Some(root), None).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| {
            panic!("{e}: {json}");
        });
        assert!(value["error"].is_null(), "{json}");
        let mut text = String::new();
        assert!(
            dis::write_text(&mut text, root).unwrap().is_none(),
            "{text}"
        );
    }
}

/// Every opcode of every version (those 3.12+ can build), with the widest argument `EXTENDED_ARG`
/// gives it, and the tables
/// of a real code object: each decodes, or fails with a typed error inside the code; the tables
/// neither panic nor fail to end.
#[test]
fn every_opcode_of_every_version_with_hostile_arguments_is_decoded_or_refused() {
    let mut tried = 0;
    for version in [
        "2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "pypy3",
    ] {
        let Some(python) = support::oracle_interpreter(version, "every opcode") else {
            continue;
        };
        let script = format!("{REPLACE}
src = 'def f(a, *b, **c):\\n    try:\\n        return [x for x in a if x]\\n    except E as e:\\n        return lambda: e\\n'
base = compile(src, 'f', 'exec')
f = base.co_consts[0]
ext = opcode.opmap['EXTENDED_ARG']
wide = sys.version_info >= (3, 6)
def body(i):
    if wide:
        return bytes(bytearray([ext, 0xff] * 3 + [i, 0xff]))
    return bytes(bytearray([ext, 0xff, 0xff, i, 0xff, 0xff]))
# 3.12+ interpreters crash building code objects of some opcodes (instrumented ones, undefined ones,
# ENTER_EXECUTOR): those are left out there.
crash = lambda name: name.startswith(('<', 'INSTRUMENTED')) or name == 'ENTER_EXECUTOR'
ops = [i for i in range(256) if sys.version_info < (3, 12) or not crash(opcode.opname[i])]
funcs = tuple(replace(f, co_code=body(i) + f.co_code) for i in ops)
co = replace(base, co_consts=funcs)");
        let data = if version == "2.7" {
            pyc_2_7(&format!("import opcode\n{script}")).unwrap()
        } else {
            pyc_of(&python, &script)
        };
        let pyc = pycmarshal::parse_pyc(&data).unwrap();
        let root = pyc.code().unwrap();
        for (i, nested) in root.nested().enumerate() {
            let co_code = nested.get("co_code").unwrap();
            let start = co_code.payload_offset().unwrap();
            let end = start + nested.bytecode().unwrap().len() as u64;
            let mut count = 0;
            for instruction in nested.instructions() {
                count += 1;
                if let Err(error) = instruction {
                    assert!(
                        (start..end).contains(&error.offset()),
                        "{version} opcode {i}: {error} outside co_code ({start}..{end})"
                    );
                }
            }
            assert!(count <= nested.bytecode().unwrap().len());
            let _ = (
                nested.line_starts(),
                nested.lines(),
                nested.exception_table(),
            );
            let _ = (nested.positions(), nested.verify());
            tried += 1;
        }
        within_promises(&format!("{version}: every opcode"), &data, 4);
    }
    assert!(tried >= 256, "python3 at least");
}
