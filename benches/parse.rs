//! Speed of the core reader on compiled standard libraries, side by side with the least any reader of
//! the format does (a skim) and with CPython's own `marshal.loads` over the same bytes.
//!
//! `cargo bench --bench parse` compiles the standard library of `python3` (or of each interpreter
//! `$PYCMARSHAL_PYTHON` lists, separated by spaces) once into
//! `<target dir>/tmp/pycmarshal-fixtures/bench-stdlib-<cache_tag>`, loads every `.pyc` into memory and
//! has criterion time, over all files: the full parse into the arena (`parse_pyc`), the validate-only
//! pass (`validate_pyc`) and, for information, the parse plus its JSON rendering. Then, in the same
//! run, it times the full parse, the validate-only pass and the skims pass by pass, interleaved, by wall
//! clock and by the thread's CPU time, in blocks between runs of `benches/marshal_loads.py` (CPython's
//! `marshal.loads` over the same bodies, as many passes), and prints nanoseconds per object, best and
//! median, and the ratios the speed goals are stated in. A criterion filter that matches nothing
//! (`cargo bench --bench parse -- side-by-side`) skips criterion and keeps the side-by-side run.
//!
//! The skim (see [`Skim`]) is the leanest reader of the format this bench knows how to write: it steps
//! over every object, code objects field by field from their layout, dispatching type bytes through a
//! table, and checks nothing but the bounds. It must end every file exactly where the parser does and
//! find every cut tested truncated (checked before timing), so it does all the work that is not optional
//! for a reader. The step skim (see [`step_skim`]) does the same with an explicit stack of open
//! containers, as the parser must (it may not recurse), and shows what that costs: on CPython
//! 3.11-3.13 nothing, it runs 3-8% faster. The goals' ratios are to whichever skim is faster.
//!
//! Three more step skims are floors: each does only part of what the parser or the validator must,
//! as leanly as this bench knows how. To beat its floor, either would have to do that part more
//! cheaply than the floor does.
//! - **Keeping a table** (see [`Table`]) writes the least table of the parser's shape as it steps.
//! - **Checking** (see [`Checks`]) checks what no validator may leave out, as CPython refuses it:
//!   each back-reference against a class byte per flagged object, and the UTF-8 of `str` payloads.
//! - **Keeping a table, checking** does both, as every parse must.
//!
//! The bytes counted are the same on both sides: each file's marshal body, the file less its header
//! (16 bytes for 3.7+). The Rust side parses the header too, so it does slightly more work than it is
//! credited with; the script strips the same header sizes, read from the list this bench writes.
//! MB/s are 10^6 bytes per second. Objects are every value a type byte starts (singletons,
//! back-references and a dict's closing NULL included).

use cpu_time::ThreadTime;
use criterion::{Criterion, Throughput};
use pycmarshal::format::layout::{Field, FieldKind};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One interpreter's compiled standard library, in memory.
struct Corpus {
    /// Every file that parses strictly, whole.
    files: Vec<Vec<u8>>,
    /// Each file's header size.
    headers: Vec<usize>,
    /// The code-object fields of the files' version (one Python wrote them all), as the skim steps
    /// over them.
    steps: Vec<Step>,
    /// The same, as [`runs`] for the step skim.
    runs: Vec<(usize, u32)>,
    /// The marshal body bytes of all files: the bytes both sides are credited with.
    body_bytes: u64,
    /// The objects of all files, as the skim counts them.
    objects: u64,
    /// Of those, back-references.
    refs: u64,
    /// The list handed to the script: `HEADER_SIZE<TAB>PATH` per file, the same files in the same order.
    list: PathBuf,
    python: String,
}

mod support;

use support::skim::{Checks, Keep, Nothing, Table, runs, step_skim};
use support::{compiled_stdlib, pyc_files, pythons};

impl Corpus {
    fn load(python: &str) -> Corpus {
        let dir = compiled_stdlib(python);
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
        let fields = fields.unwrap_or_default();
        let mut corpus = Corpus {
            files,
            headers,
            steps: steps(fields),
            runs: runs(fields),
            body_bytes,
            objects: 0,
            refs: 0,
            list,
            python: python.to_string(),
        };
        corpus.check_skims();
        corpus
    }

    /// The skims must step over exactly what the parser reads, and find a cut file cut, or they prove
    /// nothing: each ends every file where the parser does, and fails on every prefix of the 20
    /// smallest files and on 64 prefixes of every other, as the parser does.
    fn check_skims(&mut self) {
        let mut by_size: Vec<usize> = (0..self.files.len()).collect();
        by_size.sort_by_key(|&i| self.files[i].len());
        for (rank, &i) in by_size.iter().enumerate() {
            let (data, header) = (&self.files[i], self.headers[i]);
            let body = &data[header..];
            let mut skim = Skim::<true>::new(body, &self.steps);
            assert_eq!(skim.run(), Some(body.len()), "skim of file {i}");
            self.objects += skim.objects;
            self.refs += skim.refs;
            assert_eq!(
                step_skim::<Nothing>(body, &self.runs),
                Some(body.len()),
                "file {i}"
            );
            assert_eq!(
                step_skim::<Table>(body, &self.runs),
                Some(body.len()),
                "file {i}"
            );
            assert_eq!(
                step_skim::<Checks>(body, &self.runs),
                Some(body.len()),
                "file {i}"
            );
            assert_eq!(
                step_skim::<(Table, Checks)>(body, &self.runs),
                Some(body.len()),
                "file {i}"
            );
            let cuts: Vec<usize> = if rank < 20 {
                (0..body.len()).collect()
            } else {
                (0..64).map(|k| k * body.len() / 64).collect()
            };
            for cut in cuts {
                let prefix = &body[..cut];
                assert_eq!(Skim::<false>::new(prefix, &self.steps).run(), None);
                assert_eq!(step_skim::<Nothing>(prefix, &self.runs), None);
                assert_eq!(step_skim::<Table>(prefix, &self.runs), None);
                assert_eq!(step_skim::<Checks>(prefix, &self.runs), None);
                assert_eq!(step_skim::<(Table, Checks)>(prefix, &self.runs), None);
                let error = pycmarshal::Options::new()
                    .validate_pyc(&data[..header + cut])
                    .unwrap_err();
                assert!(error.is_truncated(), "file {i} cut at {cut}: {error}");
            }
        }
    }

    fn mb_s(&self, seconds: f64) -> f64 {
        self.body_bytes as f64 / seconds / 1e6
    }

    fn ns_per_object(&self, seconds: f64) -> f64 {
        seconds * 1e9 / self.objects as f64
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

/// How the skim steps over a code-object field.
#[derive(Copy, Clone, Debug)]
enum Step {
    /// Integer fields: this many bytes.
    Skip(usize),
    /// Any object.
    Object,
    /// A tuple of names, stepped in a tight loop.
    Names,
}

/// A layout's fields as skim steps, neighbouring integers merged: 3.11's is `Skip(20)`, six objects,
/// three names and objects, `Skip(4)`, two objects.
fn steps(fields: &[Field]) -> Vec<Step> {
    let mut out = Vec::new();
    for field in fields {
        let step = match field.kind {
            FieldKind::UInt8 => Step::Skip(1),
            FieldKind::Int16 | FieldKind::UInt16 => Step::Skip(2),
            FieldKind::Int32 | FieldKind::UInt32 => Step::Skip(4),
            FieldKind::Names => Step::Names,
            _ => Step::Object,
        };
        match (out.last_mut(), step) {
            (Some(Step::Skip(n)), Step::Skip(more)) => *n += more,
            _ => out.push(step),
        }
    }
    out
}

/// What a type byte (FLAG_REF off) asks the skim to do.
#[derive(Copy, Clone)]
enum Kind {
    /// Step over this many bytes: singletons, ints, references, floats.
    Fixed(u8),
    /// A payload of a `u8` length.
    Short,
    /// A payload of an `i32` length.
    Long,
    /// A long: a signed count of 2-byte digits.
    Digits,
    /// A tuple of a `u8` count.
    SmallTuple,
    /// A tuple, list, set or frozenset of an `i32` count.
    Items,
    Dict,
    Code,
    /// Not a CPython 3 type code the skim knows.
    Bad,
}

/// The skim's dispatch table, by type code.
const KINDS: [Kind; 128] = {
    const ALL: [(&[u8], Kind); 11] = [
        (b"NFTS.", Kind::Fixed(0)),
        (b"ri", Kind::Fixed(4)),
        (b"gI", Kind::Fixed(8)),
        (b"y", Kind::Fixed(16)),
        (b"zZ", Kind::Short),
        (b"suaAt", Kind::Long),
        (b"l", Kind::Digits),
        (b")", Kind::SmallTuple),
        (b"([<>", Kind::Items),
        (b"{", Kind::Dict),
        (b"c", Kind::Code),
    ];
    let mut table = [Kind::Bad; 128];
    let mut k = 0;
    while k < ALL.len() {
        let (codes, kind) = ALL[k];
        let mut i = 0;
        while i < codes.len() {
            table[codes[i] as usize] = kind;
            i += 1;
        }
        k += 1;
    }
    table
};

/// The fastest reader of the format this bench knows, as a yardstick for the parser: it steps over
/// every object (its type byte, its length, its payload), code objects field by field from the layout
/// (names tuples in a tight loop), dispatching type bytes through a table, recursing into containers
/// (the call stack is its stack of open containers, which the parser must keep on the heap). It checks
/// nothing but the bounds, keeps nothing, and knows the CPython 3 type codes only. Each type byte's
/// position depends on the length read before it, so no reader of this format goes much faster.
/// `COUNT` counts the objects, outside the timing.
struct Skim<'a, 's, const COUNT: bool> {
    body: &'a [u8],
    at: usize,
    steps: &'s [Step],
    /// Open containers, against the call stack's limits.
    depth: u32,
    objects: u64,
    refs: u64,
}

impl<'a, 's, const COUNT: bool> Skim<'a, 's, COUNT> {
    fn new(body: &'a [u8], steps: &'s [Step]) -> Self {
        Skim {
            body,
            at: 0,
            steps,
            depth: 0,
            objects: 0,
            refs: 0,
        }
    }

    /// Where the top-level object ends; `None` if a read went past the body (or it is not CPython 3
    /// marshal data the skim knows).
    fn run(&mut self) -> Option<usize> {
        self.object()?;
        (self.at <= self.body.len()).then_some(self.at)
    }

    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.body.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    #[inline(always)]
    fn int(&mut self) -> Option<u32> {
        let bytes = self.body.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    }

    #[inline(always)]
    fn count(&mut self, byte: u8) {
        if COUNT {
            self.objects += 1;
            self.refs += u64::from(byte & 0x7f == b'r');
        }
    }

    fn object(&mut self) -> Option<()> {
        let byte = self.byte()?;
        self.count(byte);
        match KINDS[usize::from(byte & 0x7f)] {
            Kind::Fixed(n) => self.at += usize::from(n),
            Kind::Short => {
                let n = self.byte()?;
                self.at += usize::from(n);
            }
            Kind::Long => {
                let n = self.int()?;
                self.at += n as usize;
            }
            Kind::Digits => {
                let n = self.int()? as i32;
                self.at += 2 * n.unsigned_abs() as usize;
            }
            Kind::SmallTuple => {
                let n = self.byte()?;
                self.items(u32::from(n))?;
            }
            Kind::Items => {
                let n = self.int()?;
                self.items(n)?;
            }
            Kind::Dict => self.dict()?,
            Kind::Code => self.code()?,
            Kind::Bad => return None,
        }
        Some(())
    }

    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= 2000).then_some(())
    }

    fn items(&mut self, n: u32) -> Option<()> {
        self.open()?;
        for _ in 0..n {
            self.object()?;
        }
        self.depth -= 1;
        Some(())
    }

    fn dict(&mut self) -> Option<()> {
        self.open()?;
        loop {
            if *self.body.get(self.at)? & 0x7f == b'0' {
                let byte = self.byte()?;
                self.count(byte);
                break;
            }
            self.object()?;
            self.object()?;
        }
        self.depth -= 1;
        Some(())
    }

    fn code(&mut self) -> Option<()> {
        self.open()?;
        for &step in self.steps {
            match step {
                Step::Skip(n) => self.at += n,
                Step::Object => self.object()?,
                Step::Names => self.names()?,
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// A names tuple: short strings and references read here, anything else as any object.
    #[inline(always)]
    fn names(&mut self) -> Option<()> {
        let byte = *self.body.get(self.at)?;
        let n = match byte & 0x7f {
            b')' => {
                self.at += 1;
                u32::from(self.byte()?)
            }
            _ => return self.object(),
        };
        self.count(byte);
        for _ in 0..n {
            let byte = self.byte()?;
            match byte & 0x7f {
                b'z' | b'Z' => {
                    self.count(byte);
                    let n = self.byte()?;
                    self.at += usize::from(n);
                }
                b'r' => {
                    self.count(byte);
                    self.at += 4;
                }
                _ => {
                    self.at -= 1;
                    self.object()?;
                }
            }
        }
        Some(())
    }
}

fn skim_all(corpus: &Corpus) {
    for (data, &header) in corpus.files.iter().zip(&corpus.headers) {
        black_box(Skim::<false>::new(black_box(&data[header..]), &corpus.steps).run());
    }
}

fn step_skim_all<K: Keep>(corpus: &Corpus) {
    for (data, &header) in corpus.files.iter().zip(&corpus.headers) {
        black_box(step_skim::<K>(black_box(&data[header..]), &corpus.runs));
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

fn criterion_benches(c: &mut Criterion, corpus: &Corpus, tag: &str) {
    let mut group = c.benchmark_group(format!("stdlib-{tag}"));
    group.throughput(Throughput::BytesDecimal(corpus.body_bytes));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("full parse", |b| b.iter(|| full_parse(&corpus.files)));
    group.bench_function("validate", |b| b.iter(|| validate(&corpus.files)));
    group.bench_function("skim", |b| b.iter(|| skim_all(corpus)));
    group.sample_size(10);
    group.bench_function("parse + json", |b| b.iter(|| parse_and_json(&corpus.files)));
    group.finish();
}

/// One timed pass: wall clock and the thread's CPU time, in seconds.
#[derive(Copy, Clone)]
struct Pass {
    wall: f64,
    cpu: f64,
}

fn time(pass: impl FnOnce()) -> Pass {
    let (wall, cpu) = (Instant::now(), ThreadTime::now());
    pass();
    Pass {
        cpu: cpu.elapsed().as_secs_f64(),
        wall: wall.elapsed().as_secs_f64(),
    }
}

/// The best and the median of some times.
fn best_and_median(times: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut times: Vec<f64> = times.collect();
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

/// A reader's passes, best and median by CPU time and by wall clock.
struct Summary {
    cpu: (f64, f64),
    wall: (f64, f64),
}

impl Summary {
    fn of(passes: &[Pass]) -> Summary {
        Summary {
            cpu: best_and_median(passes.iter().map(|p| p.cpu)),
            wall: best_and_median(passes.iter().map(|p| p.wall)),
        }
    }
}

/// What one run of the script reports: its interpreter, and a pass per round.
struct Baseline {
    python: String,
    passes: Vec<Pass>,
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
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    let seconds = |key: &str| -> Vec<f64> {
        let times = result[key].as_array().unwrap().iter();
        times.map(|t| t.as_f64().unwrap()).collect()
    };
    assert_eq!(
        (result["files"].as_u64(), result["bytes"].as_u64()),
        (Some(corpus.files.len() as u64), Some(corpus.body_bytes)),
        "the script did not read the same bytes"
    );
    let passes = seconds("times_s")
        .into_iter()
        .zip(seconds("cpu_s"))
        .map(|(wall, cpu)| Pass { wall, cpu })
        .collect();
    Baseline {
        python: result["python"].as_str().unwrap().to_string(),
        passes,
    }
}

/// The other Rust readers of the format (`benches/peers`, marshal-parser and python_marshal), built
/// once when `PYCMARSHAL_PEERS=1`: their program, else `None`.
fn peers_program() -> Option<PathBuf> {
    if std::env::var("PYCMARSHAL_PEERS").ok().as_deref() != Some("1") {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(root.join("benches/peers/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .unwrap();
    assert!(status.success(), "cannot build benches/peers");
    Some(target.join("release/pycmarshal-peers"))
}

/// One run of the peers' program: per reader, its name, the files it read, and a pass per round.
fn peers(program: &Path, corpus: &Corpus, rounds: usize) -> Vec<(String, u64, Vec<Pass>)> {
    let out = Command::new(program)
        .arg(&corpus.list)
        .arg(rounds.to_string())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "benches/peers failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("RESULT "));
    results
        .map(|line| {
            let result: serde_json::Value = serde_json::from_str(line).unwrap();
            let seconds = |key: &str| -> Vec<f64> {
                let times = result[key].as_array().unwrap().iter();
                times.map(|t| t.as_f64().unwrap()).collect()
            };
            assert_eq!(result["files"].as_u64(), Some(corpus.files.len() as u64));
            let passes = seconds("times_s")
                .into_iter()
                .zip(seconds("cpu_s"))
                .map(|(wall, cpu)| Pass { wall, cpu })
                .collect();
            let name = result["reader"].as_str().unwrap().to_string();
            (name, result["parsed"].as_u64().unwrap(), passes)
        })
        .collect()
}

/// Times every reader pass by pass, interleaved, in blocks between runs of the script with as many
/// passes (`$PYCMARSHAL_BENCH_ROUNDS` per side, default 30, in 3 blocks), so that all meet the same
/// load on a shared machine, and prints a line per reader and the goals' ratios: best against best,
/// median against median. With `PYCMARSHAL_PEERS=1`, the other Rust readers run in each block too.
fn side_by_side(corpus: &Corpus) {
    const BLOCKS: usize = 3;
    let rounds: usize = std::env::var("PYCMARSHAL_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let per_block = rounds.div_ceil(BLOCKS).max(1);
    let readers: [(&str, &dyn Fn()); 7] = [
        ("full parse", &|| full_parse(&corpus.files)),
        ("validate", &|| validate(&corpus.files)),
        ("skim", &|| skim_all(corpus)),
        ("step skim", &|| step_skim_all::<Nothing>(corpus)),
        ("step skim keeping a table", &|| {
            step_skim_all::<Table>(corpus)
        }),
        ("step skim checking", &|| step_skim_all::<Checks>(corpus)),
        ("step skim keeping a table, checking", &|| {
            step_skim_all::<(Table, Checks)>(corpus)
        }),
    ];
    let mut passes = vec![Vec::new(); readers.len()];
    let mut loads = Vec::new();
    let program = peers_program();
    let mut peer_rows: Vec<(String, u64, Vec<Pass>)> = Vec::new();
    let mut python = String::new();
    for (_, reader) in readers {
        reader(); // warm up
    }
    for _ in 0..BLOCKS {
        for _ in 0..per_block {
            for ((_, reader), passes) in readers.iter().zip(&mut passes) {
                passes.push(time(reader));
            }
        }
        let base = marshal_loads(corpus, per_block);
        loads.extend(base.passes);
        python = base.python;
        for (name, parsed, passes) in program.iter().flat_map(|p| peers(p, corpus, per_block)) {
            match peer_rows.iter_mut().find(|row| row.0 == name) {
                Some(row) => row.2.extend(passes),
                None => peer_rows.push((name, parsed, passes)),
            }
        }
    }
    println!(
        "\n{python}: {} files, {:.1} MB of bodies, {} objects ({:.0}% back-references); {} passes \
         each, interleaved",
        corpus.files.len(),
        corpus.body_bytes as f64 / 1e6,
        corpus.objects,
        100.0 * corpus.refs as f64 / corpus.objects as f64,
        loads.len(),
    );
    let base = Summary::of(&loads);
    // The goals are ratios to the fastest skim: whichever of the two has the better best pass.
    let skim = [Summary::of(&passes[2]), Summary::of(&passes[3])]
        .into_iter()
        .min_by(|a, b| a.cpu.0.total_cmp(&b.cpu.0))
        .unwrap();
    let mut rows: Vec<(&str, Summary)> = readers
        .iter()
        .zip(&passes)
        .map(|((name, _), passes)| (*name, Summary::of(passes)))
        .collect();
    rows.push(("marshal.loads", Summary::of(&loads)));
    let peer_names: Vec<String> = peer_rows
        .iter()
        .map(|(name, parsed, _)| format!("{name} ({parsed} of {} files)", corpus.files.len()))
        .collect();
    for ((_, _, passes), name) in peer_rows.iter().zip(&peer_names) {
        rows.push((name, Summary::of(passes)));
    }
    let ns = |s: f64| corpus.ns_per_object(s);
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(15);
    println!(
        "  {:<width$} {:>21} {:>21} {:>9} {:>17} {:>23}",
        "ns/object",
        "thread CPU best/med",
        "wall best/med",
        "MB/s",
        "x skim (CPU)",
        "x marshal.loads (CPU)"
    );
    for (name, s) in &rows {
        println!(
            "  {name:<width$} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>9.0} {:>8.2} {:>8.2} {:>11.2} {:>11.2}",
            ns(s.cpu.0),
            ns(s.cpu.1),
            ns(s.wall.0),
            ns(s.wall.1),
            corpus.mb_s(s.cpu.0),
            s.cpu.0 / skim.cpu.0,
            s.cpu.1 / skim.cpu.1,
            base.cpu.0 / s.cpu.0,
            base.cpu.1 / s.cpu.1,
        );
    }
    let goal = |name: &str, at: usize, limit: f64| {
        let s = &rows[at].1;
        let (best, median) = (s.cpu.0 / skim.cpu.0, s.cpu.1 / skim.cpu.1);
        let met = if best <= limit { "met" } else { "not met" };
        println!(
            "  goal: {name} within {limit}x the skim's time: {best:.2}x by best CPU time, \
             {median:.2}x by median ({met}); by wall clock {:.2}x",
            s.wall.0 / skim.wall.0
        );
    };
    goal("full parse", 0, 1.3);
    goal("validate", 1, 1.15);
    let floor = |at: usize, what: &str| {
        let s = &rows[at].1;
        println!(
            "  {what} takes {:.2}x the skim's time by best CPU time, {:.2}x by median",
            s.cpu.0 / skim.cpu.0,
            s.cpu.1 / skim.cpu.1
        );
    };
    floor(
        4,
        "the least table of the parser's shape (the step skim keeping one) by itself",
    );
    floor(
        5,
        "the least checking, which no validator can leave out (the step skim checking references \
         and text),",
    );
    floor(
        6,
        "the least table and checking both, which no parse can leave out (the step skim keeping a \
         table, checking),",
    );
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
    let corpora: Vec<Corpus> = pythons()
        .iter()
        .map(|python| Corpus::load(python))
        .collect();
    let mut criterion = Criterion::default().configure_from_args();
    for corpus in &corpora {
        let tag = support::python_says(
            &corpus.python,
            "import sys; print(sys.implementation.cache_tag)",
        );
        criterion_benches(&mut criterion, corpus, &tag);
    }
    if benchmarking() {
        for corpus in &corpora {
            side_by_side(corpus);
        }
    }
    criterion.final_summary();
}
