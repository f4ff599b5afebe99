//! Speed of instruction decoding alone, side by side with CPython's `dis.get_instructions` over the
//! same code objects.
//!
//! `cargo bench --bench bytecode` reads the standard library `cargo bench --bench parse` compiles (of
//! `python3` or `$PYCMARSHAL_PYTHON`), parses every file outside the timing, then decodes every
//! instruction of every code object (`Code::instructions`, each argument resolved), best of N
//! rounds, and runs `benches/dis_decode.py` on the same files with the same N, which times
//! `dis.get_instructions` of every code object with the garbage collector off. Both report wall time
//! and the thread's CPU time (this machine is shared: CPU time is the steadier figure), and the ratios
//! are printed last.
//!
//! Then what `pyc check --deep` spends over `pyc check`, in the same run and on the same bytes in
//! memory (`Checker::check_bytes`, no sources): `--deep` verifies each code object as the skim
//! closes it; a file that fails is then parsed (`parse_pyc`) and verified (`verify_all`) for the
//! located error, timed apart. The floors are the least any bytecode check must do: a walk that
//! steps over every instruction by its opcode's size, and one that steps over every entry of the
//! location tables (3.11+) by the sizes their first bytes give; and the instruction walk over two
//! codes at once, to show what interleaving walks could gain. Last, the goal's ratio: the two
//! commands as whole processes on one thread over the same tree, interleaved, beside what the
//! command would take with only the floors added to it.

mod support;

use cpu_time::ThreadTime;
use pycmarshal::Bytecode;
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 15;

/// Best wall and thread CPU time of `ROUNDS` runs of `f`, in seconds.
fn best_of(mut f: impl FnMut()) -> (f64, f64) {
    let (mut wall, mut cpu) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        let (start, start_cpu) = (Instant::now(), ThreadTime::now());
        f();
        wall = wall.min(start.elapsed().as_secs_f64());
        cpu = cpu.min(start_cpu.elapsed().as_secs_f64());
    }
    (wall, cpu)
}

/// The floor of a bytecode check: every instruction stepped over by its opcode's size (wordcode and
/// inline caches of 3.6+), an undefined opcode counted, nothing resolved.
fn walk_floor(code: &[u8], sizes: &[u8; 256]) -> usize {
    let (mut at, mut undefined) = (0, 0);
    while let Some(&op) = code.get(at) {
        let size = sizes[usize::from(op)];
        undefined += usize::from(size == 0);
        at += usize::from(size.max(2));
    }
    undefined + at
}

/// [`walk_floor`] over two codes at once, in lockstep until the shorter ends: two independent chains
/// of loads, each step of one overlapping the other's (what an interleaving verifier could gain).
fn walk_floor_pair(a: &[u8], b: &[u8], sizes: &[u8; 256]) -> usize {
    let (mut i, mut j, mut undefined) = (0, 0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        let (sx, sy) = (sizes[usize::from(x)], sizes[usize::from(y)]);
        undefined += usize::from(sx == 0) + usize::from(sy == 0);
        i += usize::from(sx.max(2));
        j += usize::from(sy.max(2));
    }
    let rest = |code: &[u8], from: usize| walk_floor(code.get(from..).unwrap_or_default(), sizes);
    undefined + rest(a, i) + rest(b, j)
}

/// The floor of the line-table check of 3.11+ (the location table): every entry stepped over by the
/// sizes its first byte gives (and its varints' continuation bits), the code units it covers added
/// up, nothing decoded.
fn lines_floor(table: &[u8]) -> usize {
    let (mut at, mut units) = (0, 0);
    while let Some(&first) = table.get(at) {
        units += usize::from(first & 7) + 1;
        at += 1;
        let varints = match (first >> 3) & 15 {
            15 => 0,
            14 => 4,
            13 => 1,
            10..=12 => {
                at += 2;
                0
            }
            _ => {
                at += 1;
                0
            }
        };
        for _ in 0..varints {
            while table.get(at).is_some_and(|b| b & 64 != 0) {
                at += 1;
            }
            at += 1;
        }
    }
    units + at
}

fn main() {
    let python = support::python();
    let dir = support::compiled_stdlib(&python);
    let paths = support::pyc_files(&dir);
    let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let pycs: Vec<_> = files
        .iter()
        .filter_map(|d| pycmarshal::parse_pyc(d).ok())
        .collect();
    let codes: Vec<_> = pycs
        .iter()
        .filter_map(|pyc| pyc.objects.root())
        .flat_map(pycmarshal::tools::dis::code_objects)
        .map(|located| located.code)
        .collect();
    let count: usize = codes.iter().map(|code| code.instructions().count()).sum();
    let (rust_wall, rust_cpu) = best_of(|| {
        for code in &codes {
            for instruction in code.instructions() {
                let _ = black_box(instruction);
            }
        }
    });
    println!(
        "pycmarshal Code::instructions: {} files, {} code objects, {count} instructions: best {:.1} ms \
         wall, {:.1} ms thread CPU ({:.1} ns an instruction)",
        pycs.len(),
        codes.len(),
        rust_wall * 1e3,
        rust_cpu * 1e3,
        rust_cpu * 1e9 / count as f64
    );
    deep_breakdown(&dir, &files, &pycs, &codes);
    let list = dir.join("bytecode-bench-files.txt");
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    std::fs::write(&list, names.join("\n")).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/dis_decode.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&list)
        .arg(ROUNDS.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let result = text.lines().find_map(|l| l.strip_prefix("RESULT "));
    let Some(result) = result.and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
    else {
        eprintln!(
            "dis_decode.py gave no result: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    };
    let (py_wall, py_cpu) = (
        result["wall"].as_f64().unwrap(),
        result["cpu"].as_f64().unwrap(),
    );
    println!(
        "ratio (dis.get_instructions / Code::instructions): {:.1}x wall, {:.1}x thread CPU; \
         instructions {} vs {count}",
        py_wall / rust_wall,
        py_cpu / rust_cpu,
        result["instructions"]
    );
}

/// A file, its code objects' bytecode, and their location tables.
type FileCode<'a> = (&'a [u8], Vec<&'a [u8]>, Vec<&'a [u8]>);

/// What `check --deep` adds to `check`, part by part, on the same files.
fn deep_breakdown(
    dir: &std::path::Path,
    files: &[Vec<u8>],
    pycs: &[pycmarshal::Pyc<'_>],
    codes: &[pycmarshal::Code<'_, '_>],
) {
    let options = pycmarshal::Options::new();
    let validate = best_of(|| {
        for data in files {
            let _ = black_box(options.validate_pyc(data));
        }
    });
    let parse = best_of(|| {
        for data in files {
            let _ = black_box(options.parse_pyc(data));
        }
    });
    let verify = best_of(|| {
        for pyc in pycs {
            if let Some(root) = pyc.objects.root() {
                let _ = black_box(pycmarshal::tools::dis::verify_all(root));
            }
        }
    });
    // Sizes of the first code object's version (the stdlib is one version).
    let mut sizes = [0u8; 256];
    if let Some(set) = codes.first().and_then(|code| code.opcodes().ok()) {
        for (size, op) in sizes.iter_mut().zip(set.ops.iter()) {
            if op.name.is_some() {
                *size = 2 + 2 * op.caches;
            }
        }
    }
    let bytecode: Vec<&[u8]> = codes.iter().filter_map(|code| code.bytecode()).collect();
    let floor = best_of(|| {
        for code in &bytecode {
            black_box(walk_floor(code, &sizes));
        }
    });
    let paired = best_of(|| {
        for pair in bytecode.chunks(2) {
            match pair {
                [a, b] => black_box(walk_floor_pair(a, b, &sizes)),
                _ => pair
                    .iter()
                    .map(|code| black_box(walk_floor(code, &sizes)))
                    .sum(),
            };
        }
    });
    let locations: Vec<&[u8]> = codes
        .iter()
        .filter(|code| code.layout() == pycmarshal::format::layout::CodeLayout::V3_11)
        .filter_map(|code| code.line_table())
        .collect();
    let lines = best_of(|| {
        for table in &locations {
            black_box(lines_floor(table));
        }
    });
    // Each file's bytecode and location tables, to step over right after the file is checked, as
    // --deep does: with the bytes still in cache.
    let per_file: Vec<FileCode> = pycs
        .iter()
        .filter_map(|pyc| {
            let codes = pycmarshal::tools::dis::code_objects(pyc.objects.root()?);
            let bytecode = codes.iter().filter_map(|l| l.code.bytecode()).collect();
            let tables = codes
                .iter()
                .filter(|l| l.code.layout() == pycmarshal::format::layout::CodeLayout::V3_11)
                .filter_map(|l| l.code.line_table())
                .collect();
            Some((pyc.objects.data(), bytecode, tables))
        })
        .collect();
    let checker = |deep: bool| {
        pycmarshal::tools::check::Checker::new()
            .sources(false)
            .deep(deep)
    };
    let path = std::path::Path::new("bench.cpython-311.pyc");
    let check = |deep: bool| {
        let checker = checker(deep);
        best_of(|| {
            for (data, _, _) in &per_file {
                black_box(checker.check_bytes(path, data));
            }
        })
    };
    let (shallow, deep) = (check(false), check(true));
    let shallow_checker = checker(false);
    let least = best_of(|| {
        for (data, bytecode, tables) in &per_file {
            black_box(shallow_checker.check_bytes(path, data));
            for code in bytecode {
                black_box(walk_floor(code, &sizes));
            }
            for table in tables {
                black_box(lines_floor(table));
            }
        }
    });
    let row = |name: &str, (wall, cpu): (f64, f64)| {
        println!(
            "  {name:<60} best {:7.1} ms wall, {:7.1} ms thread CPU ({:.2}x check's CPU)",
            wall * 1e3,
            cpu * 1e3,
            cpu / shallow.1
        );
    };
    println!(
        "check --deep, part by part ({} files, {} code objects, {} bytes of bytecode, {} location \
         tables):",
        files.len(),
        codes.len(),
        bytecode.iter().map(|code| code.len()).sum::<usize>(),
        locations.len()
    );
    row("check (Checker::check_bytes, no sources)", shallow);
    row("check --deep (verifies during the skim)", deep);
    row("  skim (validate_pyc: what check reads with)", validate);
    row("  parse (parse_pyc: where a file fails --deep)", parse);
    row("  verify_all of every code object (then)", verify);
    row("  floor: step over every instruction (apart)", floor);
    row(
        "  floor: step over every location-table entry (apart)",
        lines,
    );
    row(
        "  floor: the instructions of two codes at once (apart)",
        paired,
    );
    row(
        "--deep at the least: check, then both floors, file by file",
        least,
    );
    println!(
        "in memory: check --deep takes {:.2}x check by thread CPU, {:.2}x wall; the floors after \
         each check come to {:.2}x",
        deep.1 / shallow.1,
        deep.0 / shallow.0,
        least.1 / shallow.1
    );
    // The goal is stated of the commands, which also walk the tree and read the files: the floors
    // cost the same there, on top of the command's own time.
    let command = |deep: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pyc"));
        command.args(["check", "--no-source", "--threads", "1"]);
        if deep {
            command.arg("--deep");
        }
        command.arg(dir).stdout(std::process::Stdio::null());
        command
    };
    let (mut check_process, mut deep_process) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..ROUNDS {
        for (deep, best) in [(false, &mut check_process), (true, &mut deep_process)] {
            let start = Instant::now();
            command(deep).status().unwrap();
            *best = best.min(start.elapsed().as_secs_f64());
        }
    }
    let floor_process = check_process + least.1 - shallow.1;
    let ratio = deep_process / check_process;
    println!(
        "processes on one thread (pyc check --no-source --threads 1, best wall clock of {ROUNDS}, \
         interleaved): check {:.1} ms, check --deep {:.1} ms",
        check_process * 1e3,
        deep_process * 1e3
    );
    println!(
        "goal: check --deep within 1.5x of check: {ratio:.2}x ({}); check plus the floors alone \
         would take {:.2}x: no --deep that steps over every instruction and location entry gets \
         nearer",
        if ratio <= 1.5 { "met" } else { "not met" },
        floor_process / check_process
    );
}
