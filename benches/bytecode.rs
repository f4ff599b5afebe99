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

mod support;

use pycmarshal::Bytecode;
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 15;

/// The thread's CPU time in seconds, from `/proc/thread-self/schedstat` (Linux); `None` elsewhere.
fn thread_cpu() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
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
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (start, start_cpu) = (Instant::now(), thread_cpu());
        for code in &codes {
            for instruction in code.instructions() {
                let _ = black_box(instruction);
            }
        }
        wall.push(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (start_cpu, thread_cpu()) {
            cpu.push(b - a);
        }
    }
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (rust_wall, rust_cpu) = (best(&wall), best(&cpu));
    println!(
        "pycmarshal Code::instructions: {} files, {} code objects, {count} instructions: best {:.1} ms \
         wall, {:.1} ms thread CPU ({:.1} ns an instruction)",
        pycs.len(),
        codes.len(),
        rust_wall * 1e3,
        rust_cpu * 1e3,
        rust_cpu * 1e9 / count as f64
    );
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
