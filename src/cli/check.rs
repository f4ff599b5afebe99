//! `pyc check`: the walk, the threads, the progress bar and the order of the lines. What each file is
//! comes from `pycmarshal::tools::check`.

// The library is `no_std`; the command is not.
use std::eprintln;
use std::prelude::rust_2024::*;

use super::args::CheckArgs;
use super::output::{Out, exit};
use crate::tools::check::{Checker, Report, Summary};
use crate::tools::file::FileError;
use core::fmt::Write as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the walk found, in order: files to check (and whether the command line named them), or paths
/// that failed.
enum Found {
    File { path: PathBuf, named: bool },
    Failed(Report),
}

fn is_cache_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pyc" | "pyo")
    )
}

/// Files named on the command line are checked whatever their name; directories are walked (sorted,
/// so the output is the same run after run) for .pyc and .pyo files. Each is handed to `found` as the
/// walk meets it, until `found` says to stop. Following links, a file reached twice (a `lib64` link to
/// `lib`) is checked once.
fn walk(paths: &[PathBuf], follow: bool, mut found: impl FnMut(Found) -> bool) {
    let mut seen = HashSet::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                let walker = walkdir::WalkDir::new(path)
                    .follow_links(follow)
                    .sort_by_file_name();
                for entry in walker {
                    match entry {
                        // Anything named like a cache but a directory or an unfollowed link: a FIFO or
                        // a device is reported, not skipped (the check opens nothing that blocks).
                        Ok(entry)
                            if !entry.file_type().is_dir()
                                && !entry.file_type().is_symlink()
                                && is_cache_file(entry.path()) =>
                        {
                            if follow && !first_visit(&mut seen, entry.path()) {
                                continue;
                            }
                            let path = entry.into_path();
                            if !found(Found::File { path, named: false }) {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(error) => {
                            let path = error.path().unwrap_or(path).to_path_buf();
                            let error = match error.into_io_error() {
                                Some(error) => error,
                                None => io::Error::other("file system loop"),
                            };
                            let report = Report::unreadable(&path, FileError::Io(error));
                            if !found(Found::Failed(report)) {
                                return;
                            }
                        }
                    }
                }
            }
            Ok(_) => {
                let named = Found::File {
                    path: path.clone(),
                    named: true,
                };
                if !found(named) {
                    return;
                }
            }
            Err(error) => {
                if !found(Found::Failed(Report::unreadable(
                    path,
                    FileError::Io(error),
                ))) {
                    return;
                }
            }
        }
    }
}

/// True the first time a file (by device and inode) is met.
fn first_visit(seen: &mut HashSet<(u64, u64)>, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(metadata) => seen.insert((metadata.dev(), metadata.ino())),
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (seen, path);
        true
    }
}

/// A bar on stderr that appears only when stderr is a terminal and the run has lasted a second.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: bool,
}

impl Progress {
    /// A bar of no files yet: the walk adds them as it finds them.
    fn new() -> Progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files, {eta} left") {
            bar.set_style(style);
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled: io::IsTerminal::is_terminal(&io::stderr()),
            shown: false,
        }
    }

    fn tick(&mut self) {
        self.bar.inc(1);
        if self.enabled && !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.shown = true;
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

/// How many threads check files: the number asked for, but no more than four per core (more only wait
/// on each other), and by default one per core.
fn threads(asked: Option<u16>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    asked.map_or(cores, |n| usize::from(n).min(cores * 4))
}

/// Files a worker takes at once: few enough that problems still show while a long run goes on.
const BATCH: usize = 32;

pub fn run(args: &CheckArgs, out: &mut Out) -> io::Result<u8> {
    let start = Instant::now();
    let checker = Checker::new().sources(!args.no_source).deep(args.deep);
    let mut progress = Progress::new();
    let mut summary = Summary::default();
    let threads = threads(args.threads);
    // The walk runs on its own thread and feeds the workers; each report keeps the file's place in
    // the walk, and this thread prints each as soon as every earlier one is printed: the output is in
    // walk order, and a problem shows while the run goes on.
    let (found_tx, found_rx) = mpsc::sync_channel::<(usize, Vec<Found>)>(threads * 4);
    let found_rx = std::sync::Mutex::new(found_rx);
    // Set when printing fails (a closed pipe): the walk stops at its next file, the workers drop
    // what is queued, and the run ends with the error.
    let stop = AtomicBool::new(false);
    let stop = &stop;
    let result = std::thread::scope(|scope| -> io::Result<()> {
        let (report_tx, report_rx) = mpsc::channel::<Result<Vec<(usize, Report)>, u64>>();
        let walk_tx = report_tx.clone();
        scope.spawn(move || {
            // Files go to the workers, and their count to the bar, in batches: a message per file
            // cost more than checking it (three thread handoffs a file at -j1).
            let (mut place, mut batch) = (0, Vec::with_capacity(BATCH));
            walk(&args.paths, args.follow, |item| {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                batch.push(item);
                if batch.len() == BATCH {
                    let _ = walk_tx.send(Err(BATCH as u64));
                    // The receivers live until the walk ends.
                    let _ = found_tx.send((place, std::mem::take(&mut batch)));
                    place += BATCH;
                }
                true
            });
            let _ = walk_tx.send(Err(batch.len() as u64));
            let _ = found_tx.send((place, batch));
        });
        for _ in 0..threads {
            let report_tx = report_tx.clone();
            let found_rx = &found_rx;
            scope.spawn(move || {
                loop {
                    let next = found_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((first, batch))) = next else {
                        return;
                    };
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let reports = batch
                        .into_iter()
                        .enumerate()
                        .map(|(i, found)| {
                            let report = match found {
                                Found::File { path, named } => {
                                    checker.follow_links(named || args.follow).check_path(&path)
                                }
                                Found::Failed(report) => report,
                            };
                            (first + i, report)
                        })
                        .collect();
                    if report_tx.send(Ok(reports)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(report_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let mut failed = None;
        for message in report_rx {
            match message {
                _ if failed.is_some() => {}
                Err(found) => progress.bar.inc_length(found),
                Ok(reports) => {
                    for (place, report) in reports {
                        progress.tick();
                        pending.insert(place, report);
                    }
                    while let Some(report) = pending.remove(&next) {
                        next += 1;
                        summary.add(&report);
                        if let Err(error) = print_report(out, &progress, args.json, &report) {
                            stop.store(true, Ordering::Relaxed);
                            failed = Some(error);
                            break;
                        }
                    }
                }
            }
        }
        failed.map_or(Ok(()), Err)
    });
    progress.bar.finish_and_clear();
    result?;
    let seconds = start.elapsed().as_secs_f64();
    out.text(|text| {
        if args.json {
            summary.write_json(text, seconds)?;
        } else {
            text.write_str(&summary.line(seconds))?;
        }
        text.write_char('\n')
    })?;
    if summary.files == 0 {
        eprintln!("pyc: nothing to check: no .pyc or .pyo files under the paths given");
        return Ok(exit(true));
    }
    Ok(exit(summary.problems() > 0))
}

/// One file's line (its JSON object, or its problem; nothing for an ok file in text), above the bar
/// when the bar is shown.
fn print_report(out: &mut Out, progress: &Progress, json: bool, report: &Report) -> io::Result<()> {
    if !json && report.problem.is_none() {
        return Ok(());
    }
    let print = |out: &mut Out| {
        out.text(|text| {
            if json {
                report.write_json(text)?;
            } else if let Some(message) = report.message() {
                write!(text, "{}: {message}", report.path.display())?;
            }
            text.write_char('\n')
        })
    };
    if !progress.shown {
        return print(out);
    }
    // Lines above a bar must be out before the bar draws again.
    progress
        .bar
        .suspend(|| print(out).and_then(|()| out.flush()))
}
