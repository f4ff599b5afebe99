//! A file that a writer is changing while `pyc check` reads it is never called corrupt when it was only
//! ever a prefix of a valid file, or a valid file being rewritten.
//!
//! Writers rewrite real caches the ways they are rewritten in the wild (truncated then written again;
//! the old way, a zero magic first and the real one patched last; truncated then appended a piece at a
//! time) while checkers read them over and over. The kernel may hand a reader pages the writer is
//! cutting, zeros where bytes were; the checker notices the file's size or times moving under it,
//! reads it again, and says `changing` if it will not hold still. What it may say is `ok`, `truncated`,
//! `incomplete-write` or `changing`; never `corrupt`.

mod support;

use pycmarshal::tools::check::Checker;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long the writers and checkers race.
const RACE: Duration = Duration::from_secs(6);

/// A few small modules, compiled by python3: their caches and the bytes they should hold.
fn caches(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut sources = Vec::new();
    for i in 0..8 {
        let source = dir.join(format!("m{i}.py"));
        let body: String = (0..40 * (i + 1))
            .map(|n| format!("v{n} = ({n}, 'text {n}', {n}.5)\n"))
            .collect();
        fs::write(&source, body).unwrap();
        sources.push(source);
    }
    let script = "import py_compile, sys\nfor s in sys.argv[1:]:\n    print(py_compile.compile(s, doraise=True))";
    let out = std::process::Command::new(support::python3().program)
        .arg("-c")
        .arg(script)
        .args(&sources)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let path = PathBuf::from(line);
            let data = fs::read(&path).unwrap();
            (path, data)
        })
        .collect()
}

/// One rewrite of `path` to `data`, the way number `way` says.
fn rewrite(path: &Path, data: &[u8], way: usize, cut: usize) {
    let Ok(mut file) = fs::OpenOptions::new().write(true).open(path) else {
        return;
    };
    let cut = cut % data.len();
    let _ = match way % 3 {
        // Cut short, then written whole again.
        0 => file
            .set_len(cut as u64)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| file.write_all(data)),
        // The old writers' way: a zero magic first, the rest, then the magic.
        1 => file
            .set_len(0)
            .and_then(|()| file.write_all(&[0; 4]))
            .and_then(|()| file.write_all(&data[4..]))
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop))
            .and_then(|()| file.write_all(&data[..4])),
        // Emptied, then appended a piece at a time.
        _ => file.set_len(0).and_then(|()| {
            data.chunks(cut.max(1))
                .try_for_each(|chunk| file.write_all(chunk))
        }),
    };
}

#[test]
fn a_file_being_rewritten_is_never_called_corrupt() {
    let dir = support::tempdir();
    let caches = caches(dir.path());
    let stop = AtomicBool::new(false);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let (caches, stop) = (&caches, &stop);
            scope.spawn(move || {
                let mut n = writer;
                while !stop.load(Ordering::Relaxed) {
                    let (path, data) = &caches[n % caches.len()];
                    rewrite(path, data, n / caches.len(), n * 7919);
                    n += 2;
                }
            });
        }
        let checkers: Vec<_> = (0..2)
            .map(|_| {
                let caches = &caches;
                scope.spawn(move || {
                    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
                    let checker = Checker::new().sources(false);
                    let start = Instant::now();
                    while start.elapsed() < RACE {
                        for (path, _) in caches {
                            let report = checker.check_path(path);
                            let status = report.status().name();
                            if !["ok", "truncated", "incomplete-write", "changing"]
                                .contains(&status)
                            {
                                panic!("{}: {:?}", path.display(), report.message());
                            }
                            *seen.entry(status.to_string()).or_default() += 1;
                        }
                    }
                    seen
                })
            })
            .collect();
        for checker in checkers {
            for (status, count) in checker.join().unwrap() {
                *seen.entry(status).or_default() += count;
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let reads: u64 = seen.values().sum();
    println!("{reads} reads while writers raced: {seen:?}");
    assert!(seen.get("ok").copied().unwrap_or(0) > 0, "{seen:?}");
    assert!(seen.len() > 1, "the writers were seen at work: {seen:?}");
}
