//! Speed of the core reader on the compiled standard library, side by side with CPython's own
//! `marshal.loads` over the same bytes.
//!
//! `cargo bench --bench parse` compiles the standard library of `python3` (or `$PYCMARSHAL_PYTHON`) once
//! into `<target dir>/tmp/pycmarshal-fixtures/bench-stdlib-<cache_tag>`, loads every `.pyc` into memory and has
//! criterion time, over all files: the full parse into the arena (`parse_pyc`), the validate-only pass
//! (`validate_pyc`) and, for information, the parse plus its JSON rendering. Then, in the same run, it
//! times the full and validate-only passes again best-of-N, interleaved with `benches/marshal_loads.py`
//! on the same files with the same N, and prints one ratio line per variant.
//!
//! Beside them it times a reference skim (see [`skim`]): the least any reader of the format does, stepping
//! over every object and keeping nothing. Its ratio to `marshal.loads` is the ceiling of the others.
//!
//! The bytes counted are the same on both sides: each file's marshal body, the file less its header
//! (16 bytes for 3.7+). The Rust side parses the header too, so it does slightly more work than it is
//! credited with; the script strips the same header sizes, read from the list this bench writes.
//! MB/s are 10^6 bytes per second.

use criterion::{Criterion, Throughput};
use pycmarshal::format::layout::{Field, FieldKind};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The compiled standard library, in memory.
struct Corpus {
    /// Every file that parses strictly, whole.
    files: Vec<Vec<u8>>,
    /// Each file's header size.
    headers: Vec<usize>,
    /// The code-object layout of the files' version (one Python wrote them all), as [`runs`].
    runs: Vec<(usize, u32)>,
    /// The marshal body bytes of all files: the bytes both sides are credited with.
    body_bytes: u64,
    /// The list handed to the script: `HEADER_SIZE<TAB>PATH` per file, the same files in the same order.
    list: PathBuf,
    python: String,
}

mod support;

use support::{compiled_stdlib, pyc_files, python};

impl Corpus {
    fn load() -> Corpus {
        let python = python();
        let dir = compiled_stdlib(&python);
        let mut files = Vec::new();
        let mut headers = Vec::new();
        let mut fields = None;
        let mut listing = String::new();
        let mut body_bytes = 0;
        let mut refused = 0;
        for path in pyc_files(&dir) {
            let data = std::fs::read(&path).unwrap();
            // Only files both sides accept are timed, so both time the same bytes.
            let header_size = match pycmarshal::parse_pyc(&data) {
                Ok(pyc) => {
                    let layout = pyc.header.python.code_layout().fields();
                    assert_eq!(*fields.get_or_insert(layout), layout, "{}", path.display());
                    pyc.header.size()
                }
                Err(error) => {
                    eprintln!("left out {}: {error}", path.display());
                    refused += 1;
                    continue;
                }
            };
            body_bytes += (data.len() - header_size) as u64;
            listing.push_str(&format!("{header_size}\t{}\n", path.display()));
            headers.push(header_size);
            files.push(data);
        }
        assert!(
            files.len() > 100,
            "{}: only {} files",
            dir.display(),
            files.len()
        );
        if refused > 0 {
            eprintln!("{refused} files left out: pycmarshal refuses them");
        }
        let list = dir.with_extension("files");
        std::fs::write(&list, listing).unwrap();
        let runs = runs(fields.unwrap_or_default());
        for (data, &header) in files.iter().zip(&headers) {
            // The reference must step over exactly what the parser reads, or it proves nothing.
            assert_eq!(skim(&data[header..], &runs), Some(data.len() - header));
        }
        Corpus {
            files,
            headers,
            runs,
            body_bytes,
            list,
            python,
        }
    }

    fn mb_s(&self, seconds: f64) -> f64 {
        self.body_bytes as f64 / seconds / 1e6
    }
}

fn full_parse(files: &[Vec<u8>]) {
    for data in files {
        black_box(pycmarshal::parse_pyc(black_box(data)).ok());
    }
}

fn validate(files: &[Vec<u8>]) {
    let options = pycmarshal::Options::new();
    for data in files {
        black_box(options.validate_pyc(black_box(data)).ok());
    }
}

/// A code object's fields as runs: bytes of integer fields to step over, then how many object fields
/// follow. 3.11's layout is `[(20, 8), (4, 2)]`: five integers, eight objects, one integer, two objects.
fn runs(fields: &[Field]) -> Vec<(usize, u32)> {
    let mut runs = vec![(0, 0)];
    for field in fields {
        let bytes = match field.kind {
            FieldKind::UInt8 => 1,
            FieldKind::Int16 | FieldKind::UInt16 => 2,
            FieldKind::Int32 | FieldKind::UInt32 => 4,
            _ => 0,
        };
        let last: &mut (usize, u32) = runs.last_mut().unwrap();
        if bytes == 0 {
            last.1 += 1;
        } else if last.1 == 0 {
            last.0 += bytes;
        } else {
            runs.push((bytes, 0));
        }
    }
    runs
}

/// The `run` of a container that is not a code object, and of a dict (ended by a NULL, not counted).
const NO_RUN: usize = usize::MAX;
const DICT: usize = usize::MAX - 1;

/// The least any reader of the format must do, as a yardstick for the others: step over every object
/// (its type byte, its length, its payload), count each open container's items down, and step over a
/// code object's integer fields. It checks nothing but the bounds, keeps nothing, and knows the CPython
/// 3 type codes only. Each type byte's position depends on the length read before it, so no reader of
/// this format goes much faster. Returns where the object ends.
fn skim(body: &[u8], runs: &[(usize, u32)]) -> Option<usize> {
    /// An open container: items left in it (or in its current run of code fields), and for a code
    /// object the index of its next run.
    struct Open {
        left: u32,
        run: usize,
    }
    let int = |at: usize| Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?));
    // The innermost container apart, so that counting an item touches no memory; one item with no
    // run stands for the top level.
    let mut top = Open {
        left: 1,
        run: NO_RUN,
    };
    let mut stack = Vec::with_capacity(64);
    let mut at = 0;
    loop {
        let byte = *body.get(at)? & 0x7f;
        at += 1;
        let opened = match byte {
            b'N' | b'T' | b'F' | b'S' | b'.' => None,
            // A dict's end: the dict is done.
            b'0' if top.run == DICT => {
                top = stack.pop()?;
                None
            }
            b'r' | b'i' => {
                at += 4;
                None
            }
            b'g' | b'I' => {
                at += 8;
                None
            }
            b'y' => {
                at += 16;
                None
            }
            b'z' | b'Z' => {
                at += 1 + usize::from(*body.get(at)?);
                None
            }
            b's' | b'u' | b'a' | b'A' | b't' => {
                at += 4 + int(at)? as usize;
                None
            }
            b'l' => {
                at += 4 + 2 * (int(at)? as i32).unsigned_abs() as usize;
                None
            }
            b')' => {
                at += 1;
                let left = u32::from(*body.get(at - 1)?);
                Some(Open { left, run: NO_RUN })
            }
            b'(' | b'[' | b'<' | b'>' => {
                at += 4;
                let left = int(at - 4)?;
                Some(Open { left, run: NO_RUN })
            }
            b'{' => Some(Open {
                left: u32::MAX,
                run: DICT,
            }),
            b'c' => {
                let &(ints, left) = runs.first()?;
                at += ints;
                Some(Open { left, run: 1 })
            }
            _ => return None,
        };
        if let Some(open) = opened {
            if open.left > 0 {
                stack.push(core::mem::replace(&mut top, open));
                continue;
            }
        }
        // An object is done: count it in its container, and close those it fills.
        loop {
            top.left -= 1;
            if top.left > 0 {
                break;
            }
            if let Some(&(ints, left)) = runs.get(top.run) {
                at += ints;
                top.run += 1;
                top.left = left + 1;
                continue;
            }
            match stack.pop() {
                Some(parent) => top = parent,
                None => return (at <= body.len()).then_some(at),
            }
        }
    }
}

fn skim_all(corpus: &Corpus) {
    for (data, &header) in corpus.files.iter().zip(&corpus.headers) {
        black_box(skim(black_box(&data[header..]), &corpus.runs));
    }
}

fn parse_and_json(files: &[Vec<u8>]) {
    let mut json = String::new();
    for data in files {
        if let Ok(pyc) = pycmarshal::parse_pyc(black_box(data)) {
            json.clear();
            let header = Some(&pyc.header);
            let _ = pycmarshal::tools::json::write_document(
                &mut json,
                header,
                pyc.objects.root(),
                None,
            );
            black_box(&json);
        }
    }
}

fn criterion_benches(c: &mut Criterion, corpus: &Corpus) {
    let mut group = c.benchmark_group("stdlib");
    group.throughput(Throughput::BytesDecimal(corpus.body_bytes));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("full parse", |b| b.iter(|| full_parse(&corpus.files)));
    group.bench_function("validate", |b| b.iter(|| validate(&corpus.files)));
    group.sample_size(10);
    group.bench_function("parse + json", |b| b.iter(|| parse_and_json(&corpus.files)));
    group.finish();
}

/// The times of `rounds` timed passes, after one untimed pass.
fn timed(rounds: usize, mut pass: impl FnMut()) -> Vec<f64> {
    pass();
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            pass();
            start.elapsed().as_secs_f64()
        })
        .collect()
}

/// The best and the median of some pass times.
fn best_and_median(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

/// What one run of the script reports.
struct Baseline {
    python: String,
    files: u64,
    bytes: u64,
    times: Vec<f64>,
}

fn marshal_loads(corpus: &Corpus, rounds: usize) -> Baseline {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/marshal_loads.py");
    let out = Command::new(&corpus.python)
        .arg(&script)
        .arg(&corpus.list)
        .args(["--rounds", &rounds.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", corpus.python));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "marshal_loads.py failed:\n{stdout}");
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line from marshal_loads.py:\n{stdout}"));
    for line in stdout.lines().filter(|line| !line.starts_with("RESULT ")) {
        println!("  {line}");
    }
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    let base = Baseline {
        python: result["python"].as_str().unwrap().to_string(),
        files: result["files"].as_u64().unwrap(),
        bytes: result["bytes"].as_u64().unwrap(),
        times: result["times_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect(),
    };
    assert_eq!(
        (base.files, base.bytes),
        (corpus.files.len() as u64, corpus.body_bytes),
        "the script did not read the same bytes"
    );
    base
}

/// Best-of-N on both sides with the same N (`$PYCMARSHAL_BENCH_ROUNDS`, default 15), in three
/// interleaved blocks (Rust passes, then the script, three times) so that both sides meet the same load
/// on a shared machine. The ratio divides the best pass times; the median ratio is shown beside it.
fn side_by_side(corpus: &Corpus) {
    const BLOCKS: usize = 3;
    let rounds: usize = std::env::var("PYCMARSHAL_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15);
    let per_block = rounds.div_ceil(BLOCKS).max(1);
    let (mut full, mut check, mut skims, mut loads) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut python = String::new();
    println!("side by side, {BLOCKS} blocks of {per_block} passes per side:");
    for _ in 0..BLOCKS {
        full.extend(timed(per_block, || full_parse(&corpus.files)));
        check.extend(timed(per_block, || validate(&corpus.files)));
        skims.extend(timed(per_block, || skim_all(corpus)));
        let base = marshal_loads(corpus, per_block);
        loads.extend(base.times);
        python = base.python;
    }
    let n = loads.len();
    let (base_best, base_median) = best_and_median(loads);
    println!(
        "{} files, {} body bytes (headers stripped) on both sides; best of {n} passes each, own \
         timing (not criterion's); median ratio in brackets",
        corpus.files.len(),
        corpus.body_bytes
    );
    for (name, times) in [
        ("full parse", full),
        ("validate-only", check),
        ("reference skim (the ceiling)", skims),
    ] {
        let (best, median) = best_and_median(times);
        println!(
            "{name}: {:.0} MB/s, {python} marshal.loads: {:.0} MB/s, ratio {:.1} x ({:.1} x)",
            corpus.mb_s(best),
            corpus.mb_s(base_best),
            base_best / best,
            base_median / median,
        );
    }
}

/// True under `cargo bench`, as criterion decides: `--bench` without `--test`, `--list` or
/// `--profile-time`. `cargo test --benches` runs each benchmark once and skips the side-by-side run.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| {
        args.iter()
            .any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")))
    };
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

fn main() {
    let corpus = Corpus::load();
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &corpus);
    if benchmarking() {
        side_by_side(&corpus);
    }
    criterion.final_summary();
}
