//! The floor of `pyc check`: walk a tree as it does and read every `.pyc` and `.pyo` file on every
//! core, decoding nothing. `benches/check_vs_python.sh` times it beside `pyc check --no-source` and the
//! Python script, as a whole process too: no checker that reads every byte of every file goes faster,
//! so its ratio to the script is the ceiling of `pyc check`'s.
//!
//! Usage: `cargo bench --bench read_floor -- DIR` (or the built binary with DIR). Without DIR, as
//! under a plain `cargo bench`, it says so and does nothing.

use rayon::prelude::*;
use std::path::PathBuf;

fn main() {
    // cargo passes `--bench`; the directory is the argument that is not a flag.
    let Some(dir) = std::env::args().skip(1).find(|arg| !arg.starts_with("--")) else {
        println!("read_floor: no DIR given, nothing to read (see benches/check_vs_python.sh)");
        return;
    };
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file()
                && matches!(
                    entry.path().extension().and_then(|e| e.to_str()),
                    Some("pyc" | "pyo")
                )
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    let bytes: u64 = files
        .par_iter()
        .map(|path| std::fs::read(path).map_or(0, |data| data.len() as u64))
        .sum();
    println!("{} files, {bytes} bytes read", files.len());
}
