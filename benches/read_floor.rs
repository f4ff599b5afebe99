//! The floors of `pyc check`: walk a tree as it does and read every `.pyc` and `.pyo` file on every
//! core, decoding nothing; with `--skim`, the same plus the step skim of each file's body
//! (`benches/support/skim.rs`: the leanest reader of the format, which checks nothing but the
//! bounds) after its header; with `--validate`, plus `validate_pyc` instead, the check of the body
//! that `pyc check` makes. `benches/check_vs_python.sh` times them beside `pyc check --no-source`
//! and the Python script, as whole processes: no checker that reads every byte of every file goes
//! faster than the first, nor one that also steps over every object than the second; what `pyc
//! check` takes over the third is the command's own (walk, file handling, threads, reports).
//!
//! Usage: `cargo bench --bench read_floor -- [--skim | --validate] DIR` (or the built binary).
//! Without DIR, as under a plain `cargo bench`, it says so and does nothing.

mod support;

use pycmarshal::format::layout::Field;
use rayon::prelude::*;
use std::path::PathBuf;
use support::skim::{Nothing, runs, step_skim};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let skim = args.iter().any(|arg| arg == "--skim");
    let validate = args.iter().any(|arg| arg == "--validate");
    // cargo passes `--bench`; the directory is the argument that is not a flag.
    let Some(dir) = args.iter().find(|arg| !arg.starts_with("--")) else {
        println!("read_floor: no DIR given, nothing to read (see benches/check_vs_python.sh)");
        return;
    };
    // Sorted by name as `pyc check` sorts, comparing siblings' whole paths (see src/tools/walk.rs).
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by(|a, b| a.path().as_os_str().cmp(b.path().as_os_str()))
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
    // Each thread keeps the runs of the last layout it met: a tree is nearly always one version.
    let (bytes, skimmed) = files
        .par_iter()
        .map_init(
            || (&[] as &[Field], Vec::new()),
            |(fields, steps), path| {
                let Ok(data) = std::fs::read(path) else {
                    return (0, 0);
                };
                let mut skimmed = 0;
                if validate {
                    let valid = pycmarshal::Options::new().validate_pyc(&data).is_ok();
                    skimmed = usize::from(valid);
                } else if skim {
                    if let Ok(header) = pycmarshal::read::header::parse(&data, None) {
                        let layout = header.python.code_layout().fields();
                        if !std::ptr::eq(*fields, layout) {
                            (*fields, *steps) = (layout, runs(layout));
                        }
                        let body = data.get(header.size()..).unwrap_or_default();
                        skimmed = usize::from(step_skim::<Nothing>(body, steps).is_some());
                    }
                }
                (data.len() as u64, skimmed)
            },
        )
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    print!("{} files, {bytes} bytes read", files.len());
    if skim || validate {
        print!(", {skimmed} read whole and valid");
    }
    println!();
}
