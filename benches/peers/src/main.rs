//! Times the other Rust readers of the format over the files `cargo bench --bench parse` lists, pass by
//! pass, as `benches/marshal_loads.py` times CPython's `marshal.loads`: each reader parses every file
//! from memory (header included, as pycmarshal's `parse_pyc` does), and the wall and thread CPU time of
//! each pass are printed as one `RESULT` JSON line per reader.
//!
//! Usage: `pycmarshal-peers LIST ROUNDS`, LIST holding `HEADER_SIZE<TAB>PATH` lines.

use cpu_time::ThreadTime;
use std::hint::black_box;
use std::time::Instant;

/// A reader: its name and one parse of a whole `.pyc` file, true when it reads the file.
type Reader = (&'static str, fn(&[u8]) -> bool);

const READERS: [Reader; 2] = [
    ("marshal-parser 0.1.1", |data| {
        black_box(marshal_parser::MarshalObject::parse_pyc(data)).is_ok()
    }),
    ("python_marshal 0.4.9", |data| {
        // It indexes the header without checking its length: a 16-byte floor keeps it from panicking.
        data.len() >= 16 && black_box(python_marshal::load_pyc(data)).is_ok()
    }),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(list), Some(rounds)) = (args.get(1), args.get(2).and_then(|r| r.parse().ok())) else {
        eprintln!("usage: pycmarshal-peers LIST ROUNDS");
        std::process::exit(2);
    };
    let listing = std::fs::read_to_string(list).expect("the file list");
    let files: Vec<Vec<u8>> = listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(_, path)| std::fs::read(path).expect("a listed file"))
        .collect();
    for (name, read) in READERS {
        let read_all = || files.iter().filter(|data| read(data)).count();
        let parsed = read_all(); // warm up
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (start, start_cpu) = (Instant::now(), ThreadTime::now());
            black_box(read_all());
            walls.push(start.elapsed().as_secs_f64());
            cpus.push(start_cpu.elapsed().as_secs_f64());
        }
        println!(
            "RESULT {{\"reader\": \"{name}\", \"files\": {}, \"parsed\": {parsed}, \"times_s\": {walls:?}, \
             \"cpu_s\": {cpus:?}}}",
            files.len()
        );
    }
}
