//! `pyc check --deep` ([`Checker::deep`]) against damage the marshal layer cannot see: a byte changed
//! inside `co_code`, a line table or an exception table still parses as bytes.
//!
//! - No false alarm: every file the interpreters here compiled from their standard library (the
//!   sample the other tests share) and every corpus file passes.
//! - Planted single-byte corruptions in real files, one per invariant (an undefined opcode, a constant
//!   index past `co_consts`, a jump outside the code, code ending inside an instruction's caches, a line
//!   table that does not cover the code, a handler outside it), are each reported as `corrupt` with the
//!   error kind of that invariant and the offset of the damage, where the check without `--deep` says
//!   `ok`.
//! - Random single-bit flips: the share of those the marshal layer lets through that `--deep` catches
//!   is printed per interpreter (a figure, not a pass mark; a flip to other valid bytecode is
//!   undetectable).

mod support;

use pycmarshal::bytecode::opcodes::flags;
use pycmarshal::tools::check::{Checker, Problem, Status};
use pycmarshal::{Bytecode, Code, ErrorKind};
use std::path::{Path, PathBuf};
use support::Interpreter;

const SAMPLE: usize = 100;

fn deep() -> Checker {
    Checker::new().sources(false).deep(true)
}

fn shallow() -> Checker {
    Checker::new().sources(false)
}

/// The sample's files of the first variant (what the compiler writes by default).
fn sample(python: &Interpreter) -> Vec<PathBuf> {
    support::compiled_sample(python, SAMPLE)
        .into_iter()
        .filter(|(variant, _)| variant == "timestamp-0")
        .map(|(_, path)| path)
        .collect()
}

/// The interpreters to take files from: python3 always, the others where present.
fn interpreters(test: &str) -> Vec<Interpreter> {
    let mut out = vec![support::python3()];
    for name in ["2.7", "3.6", "3.8", "3.10", "3.12", "3.13", "pypy3"] {
        if let Some(python) = support::oracle_interpreter(name, test) {
            if python.version != out[0].version || python.implementation != out[0].implementation {
                out.push(python);
            }
        }
    }
    out
}

#[test]
fn no_false_alarm_on_compiled_standard_libraries_or_the_corpus() {
    let mut checked = 0;
    let mut files: Vec<PathBuf> = Vec::new();
    for python in interpreters("deep: no false alarm") {
        files.extend(
            support::compiled_sample(&python, SAMPLE)
                .into_iter()
                .map(|(_, p)| p),
        );
    }
    if let Some(corpus) = support::corpus("deep: no false alarm (corpus part)") {
        files.extend(support::corpus_files(&corpus).into_iter().map(|(_, p)| p));
    }
    let mut in_skim = 0;
    for path in &files {
        in_skim += usize::from(the_skim_verifies_what_the_parse_verifies(path));
        let report = deep().check_path(path);
        assert_eq!(
            report.status(),
            Status::Ok,
            "{}: {}",
            path.display(),
            report.message().unwrap_or_default()
        );
        checked += 1;
    }
    println!("{checked} files pass --deep, {in_skim} of them in the skim");
}

/// The verifier that runs in the skim (where `check --deep` starts) passes a file exactly when
/// parsing it and verifying each code object with its magic's own opcode set does; where that fails,
/// or the bytecode is not CPython's or PyPy's, `check --deep` takes the parse's way. Returns the
/// skim's verdict.
fn the_skim_verifies_what_the_parse_verifies(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap();
    let (skim, _) = pycmarshal::fuzzing::deep(&data);
    let own = pycmarshal::parse_pyc(&data).is_ok_and(|pyc| {
        let root = pyc.objects.root().unwrap();
        let codes = pycmarshal::tools::dis::code_objects(root);
        codes.iter().all(|l| l.code.verify().is_ok())
    });
    assert_eq!(skim, own, "{}", path.display());
    skim
}

/// One planted corruption: the byte to set, its new value, the error kind expected, and the range of
/// offsets the error may name (the damaged instruction or table entry).
struct Plant {
    at: usize,
    value: u8,
    kind: fn(&ErrorKind) -> bool,
    within: std::ops::Range<u64>,
    what: &'static str,
}

/// Plants each corruption it can in the first code object of `file` where it applies, and checks
/// that `--deep` reports it. Returns the names of the invariants checked.
fn plant_all(path: &Path, data: &[u8], found: &mut Vec<&'static str>) {
    let pyc = pycmarshal::parse_pyc(data).unwrap();
    let root = pyc.objects.root().unwrap();
    let codes: Vec<Code> = pycmarshal::tools::dis::code_objects(root)
        .into_iter()
        .map(|l| l.code)
        .collect();
    for code in &codes {
        for plant in plants(code) {
            if found.contains(&plant.what) {
                continue;
            }
            let mut bad = data.to_vec();
            bad[plant.at] = plant.value;
            assert_eq!(
                shallow().check_bytes(path, &bad).status(),
                Status::Ok,
                "{}: {} planted at {} shows without --deep",
                path.display(),
                plant.what,
                plant.at
            );
            let report = deep().check_bytes(path, &bad);
            let Some(Problem::Decode(error)) = &report.problem else {
                panic!(
                    "{}: {} at {} not caught: {}",
                    path.display(),
                    plant.what,
                    plant.at,
                    report.message().unwrap_or_default()
                );
            };
            assert!(
                (plant.kind)(error.kind()) && plant.within.contains(&error.offset()),
                "{}: {} planted at byte {}: got {error} (offset {})",
                path.display(),
                plant.what,
                plant.at,
                error.offset()
            );
            assert_eq!(report.status(), Status::Corrupt);
            found.push(plant.what);
        }
    }
}

/// The corruptions that apply to `code`.
fn plants(code: &Code<'_, '_>) -> Vec<Plant> {
    let mut out = Vec::new();
    let Ok(set) = code.opcodes() else {
        return out;
    };
    let field = code.get("co_code").unwrap();
    let base = field.payload_offset().unwrap();
    let bytes = code.bytecode().unwrap();
    let instructions: Vec<_> = code.instructions().map(Result::unwrap).collect();
    let span = |i: &pycmarshal::bytecode::Instruction| {
        base + u64::from(i.offset)..base + u64::from(i.offset + i.size)
    };
    // An opcode no version defines at that number.
    if let (Some(first), Some(undefined)) = (
        instructions.first(),
        (0..=255u8).find(|&n| set.ops[usize::from(n)].name.is_none()),
    ) {
        out.push(Plant {
            at: base as usize,
            value: undefined,
            kind: |k| matches!(k, ErrorKind::UndefinedOpcode(_)),
            within: span(first),
            what: "undefined opcode",
        });
    }
    let consts = code.consts().map_or(0, |c| c.len());
    let previous_extends = |n: usize| n > 0 && set.extended_arg == Some(instructions[n - 1].opcode);
    // A constant index past co_consts (one argument byte, no EXTENDED_ARG before it).
    if let Some(n) = instructions.iter().enumerate().position(|(n, i)| {
        i.name == "LOAD_CONST"
            && !previous_extends(n)
            && consts < 255
            && i.arg.is_some_and(|a| a < 256)
    }) {
        let i = &instructions[n];
        out.push(Plant {
            at: (base + u64::from(i.offset) + 1) as usize,
            value: 255,
            kind: |k| {
                matches!(
                    k,
                    ErrorKind::ArgumentOutOfRange {
                        table: "co_consts",
                        ..
                    }
                )
            },
            within: span(i),
            what: "constant index out of range",
        });
    }
    // A jump outside the code: a forward relative jump of 255 units from a short code object.
    let unit = u64::from(set.jump_unit_bytes);
    if let Some(n) = instructions.iter().enumerate().position(|(n, i)| {
        i.is_jump()
            && i.flags() & flags::JREL != 0
            && i.flags() & flags::BACKWARD == 0
            && !previous_extends(n)
            && u64::from(i.offset + i.size) + 255 * unit > bytes.len() as u64
    }) {
        let i = &instructions[n];
        out.push(Plant {
            at: (base + u64::from(i.offset) + 1) as usize,
            value: 255,
            kind: |k| matches!(k, ErrorKind::BadJumpTarget(_)),
            within: span(i),
            what: "jump outside the code",
        });
    }
    // The last instruction turned into one with inline caches: the code ends inside them (3.11+).
    if let (Some(last), Some(cached)) = (
        instructions.last(),
        (0..=255u8).find(|&n| {
            let op = set.ops[usize::from(n)];
            op.name.is_some()
                && op.caches > 0
                && op.flags & (flags::SPECIALIZED | flags::INSTRUMENTED) == 0
        }),
    ) {
        out.push(Plant {
            at: (base + u64::from(last.offset)) as usize,
            value: cached,
            kind: |k| matches!(k, ErrorKind::InstructionCut { .. }),
            within: span(last),
            what: "code ending inside an instruction's caches",
        });
    }
    out.extend(line_table_plant(code));
    out.extend(exception_table_plant(code, bytes.len()));
    out
}

/// A line table that no longer covers the code: its first length grown by one unit (3.10's ranges,
/// 3.11's locations) or its first bytecode increment pushed past the code (an lnotab).
fn line_table_plant(code: &Code<'_, '_>) -> Option<Plant> {
    let (field, lnotab) = match code.get("co_lnotab") {
        Some(field) => (field, true),
        None => (code.get("co_linetable")?, false),
    };
    let table = field.as_bytes()?;
    let base = field.payload_offset()?;
    let first = *table.first()?;
    let python = code.objects().python();
    let code_len = code.bytecode()?.len();
    let value = if lnotab
        && python.implementation == pycmarshal::Implementation::PyPy
        && (python.major, python.minor) >= (3, 10)
    {
        return None; // PyPy 3.10's positions: an entry per code unit, no length to change
    } else if lnotab {
        // an increment reaching past the code
        if code_len >= 255 || table.len() < 2 {
            return None;
        }
        255
    } else if (python.major, python.minor) == (3, 10) {
        first.checked_add(2)?
    } else {
        // 3.11+: an entry's length is its low 3 bits, plus 1
        if first & 7 == 7 {
            return None;
        }
        first + 1
    };
    Some(Plant {
        at: base as usize,
        value,
        kind: |k| matches!(k, ErrorKind::BadLineTable),
        within: base..base + table.len() as u64,
        what: "line table not covering the code",
    })
}

/// A handler range reaching past the code: the first entry's length set to 63 units (3.11+).
fn exception_table_plant(code: &Code<'_, '_>, code_len: usize) -> Option<Plant> {
    let field = code.get("co_exceptiontable")?;
    let table = field.as_bytes()?;
    let base = field.payload_offset()?;
    // The first entry: its start (one byte, bit 7 marks it) then its length.
    let (start, length) = (*table.first()?, *table.get(1)?);
    if start & 0x40 != 0 || length & 0x40 != 0 {
        return None; // multi-byte varints
    }
    if u64::from(start & 0x3f) * 2 + 126 <= code_len as u64 {
        return None;
    }
    Some(Plant {
        at: (base + 1) as usize,
        value: 0x3f,
        kind: |k| matches!(k, ErrorKind::BadExceptionTable),
        within: base..base + table.len() as u64,
        what: "handler outside the code",
    })
}

#[test]
fn planted_corruptions_are_caught_with_the_invariant_they_break() {
    for python in interpreters("deep: planted corruptions") {
        let mut found = Vec::new();
        for path in sample(&python) {
            let data = std::fs::read(&path).unwrap();
            plant_all(&path, &data, &mut found);
        }
        let mut expected = vec![
            "undefined opcode",
            "constant index out of range",
            "jump outside the code",
            "line table not covering the code",
        ];
        let version = (python.python().major, python.python().minor);
        if version >= (3, 11) && python.implementation == "cpython" {
            expected.extend([
                "code ending inside an instruction's caches",
                "handler outside the code",
            ]);
        }
        for what in &expected {
            assert!(
                found.contains(what),
                "{}: no file to plant '{what}' in",
                python.label()
            );
        }
        println!("{}: caught {}", python.label(), found.join(", "));
    }
}

#[test]
fn share_of_random_bit_flips_the_marshal_layer_misses_that_deep_catches() {
    for python in interpreters("deep: random bit flips") {
        let files = sample(&python);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut marshal, mut deep_only, mut neither) = (0u32, 0u32, 0u32);
        for path in files.iter().take(40) {
            let data = std::fs::read(path).unwrap();
            let header = pycmarshal::read::header::parse(&data, None).unwrap().size();
            for _ in 0..50 {
                let at = header + (next() as usize) % (data.len() - header);
                let mut bad = data.clone();
                bad[at] ^= 1 << (next() % 8);
                if shallow().check_bytes(path, &bad).status() != Status::Ok {
                    marshal += 1;
                } else if deep().check_bytes(path, &bad).status() != Status::Ok {
                    deep_only += 1;
                } else {
                    neither += 1;
                }
            }
        }
        let missed = deep_only + neither;
        assert!(
            deep_only > 0,
            "{}: --deep caught no flip at all",
            python.label()
        );
        println!(
            "{}: {} flips: marshal layer catches {marshal}; of the {missed} it lets through, --deep \
             catches {deep_only} ({:.1}%)",
            python.label(),
            marshal + missed,
            100.0 * f64::from(deep_only) / f64::from(missed.max(1))
        );
    }
}
