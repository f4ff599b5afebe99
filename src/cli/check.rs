//! `pyc check`, and what `pyc clean` shares with it: the threads over the walk, the progress bar and
//! the order of the lines. What each file is comes from `pycmarshal::tools::check`, which files from
//! `pycmarshal::tools::walk`.

// The library is `no_std`; the command is not.
use std::eprintln;
use std::prelude::rust_2024::*;

use super::args::CheckArgs;
use super::output::{Out, exit};
use crate::tools::check::{Checker, Report, Summary};
use crate::tools::walk::{Found, Walk};
use core::fmt::{self, Write as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
pub fn threads(asked: Option<u16>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    asked.map_or(cores, |n| usize::from(n).min(cores * 4))
}

/// The checker the arguments ask for; a pycache prefix that cannot be made absolute is an error.
pub fn checker(args: &CheckArgs) -> io::Result<Checker> {
    let checker = Checker::new().sources(!args.no_source).deep(args.deep);
    match &args.pycache_prefix {
        Some(prefix) => checker.pycache_prefix(prefix),
        None => Ok(checker),
    }
}

pub fn run(args: &CheckArgs, out: &mut Out) -> io::Result<u8> {
    let start = Instant::now();
    let checker = checker(args)?;
    // A link named on the command line is followed; one met while walking only with -L.
    let named = checker.clone().follow_links(true);
    let walked = checker.follow_links(args.follow);
    let mut summary = Summary::default();
    let check = |found: Found| match found {
        Found::File { path, named: true } => named.check_path(&path),
        Found::File { path, .. } => walked.check_path(&path),
        Found::Failed { path, error } => Report::unreadable(&path, error),
    };
    let walk = Walk::new(args.walked(), args.follow);
    pipeline(walk, threads(args.threads), check, out, |report, line| {
        summary.add(report);
        if args.json {
            report.write_json(line)?;
        } else if let Some(message) = report.message() {
            write!(line, "{}: {message}", report.path.display())?;
        }
        Ok(())
    })?;
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

/// Files a worker takes at once: few enough that problems still show while a long run goes on.
const BATCH: usize = 32;

/// Runs `work` over every file `walk` finds, on `threads` threads, and has `line` write each result's
/// line (nothing, for a result that has none) in walk order, as soon as every earlier one is out: the
/// output is the same run after run, and a problem shows while a long run goes on, above the progress
/// bar when there is one.
pub fn pipeline<R: Send>(
    walk: Walk,
    threads: usize,
    work: impl Fn(Found) -> R + Sync,
    out: &mut Out,
    mut line: impl FnMut(&R, &mut String) -> fmt::Result,
) -> io::Result<()> {
    let mut progress = Progress::new();
    // The walk runs on its own thread and feeds the workers; each result keeps the file's place in
    // the walk, and this thread prints each as soon as every earlier one is printed.
    let (found_tx, found_rx) = mpsc::sync_channel::<(usize, Vec<Found>)>(threads * 4);
    let found_rx = std::sync::Mutex::new(found_rx);
    // Set when printing fails (a closed pipe): the walk stops at its next file, the workers drop
    // what is queued, and the run ends with the error.
    let stop = AtomicBool::new(false);
    let stop = &stop;
    let work = &work;
    let result = std::thread::scope(|scope| -> io::Result<()> {
        let (result_tx, result_rx) = mpsc::channel::<Result<Vec<(usize, R)>, u64>>();
        let walk_tx = result_tx.clone();
        scope.spawn(move || {
            // Files go to the workers, and their count to the bar, in batches: a message per file
            // cost more than checking it (three thread handoffs a file at -j1).
            let (mut place, mut batch) = (0, Vec::with_capacity(BATCH));
            for item in walk {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                batch.push(item);
                if batch.len() == BATCH {
                    let _ = walk_tx.send(Err(BATCH as u64));
                    // The receivers live until the walk ends.
                    let _ = found_tx.send((place, std::mem::take(&mut batch)));
                    place += BATCH;
                }
            }
            let _ = walk_tx.send(Err(batch.len() as u64));
            let _ = found_tx.send((place, batch));
        });
        for _ in 0..threads {
            let result_tx = result_tx.clone();
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
                    let results = batch.into_iter().enumerate();
                    let results = results.map(|(i, found)| (first + i, work(found))).collect();
                    if result_tx.send(Ok(results)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(result_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let mut failed = None;
        let mut text = String::new();
        for message in result_rx {
            match message {
                _ if failed.is_some() => {}
                Err(found) => progress.bar.inc_length(found),
                Ok(results) => {
                    for (place, result) in results {
                        progress.tick();
                        pending.insert(place, result);
                    }
                    while let Some(result) = pending.remove(&next) {
                        next += 1;
                        text.clear();
                        let printed = line(&result, &mut text)
                            .map_err(|_| io::Error::other("formatting failed"))
                            .and_then(|()| print_line(out, &progress, &text));
                        if let Err(error) = printed {
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
    result
}

/// One line, unless it is empty, above the bar when the bar is shown.
fn print_line(out: &mut Out, progress: &Progress, text: &str) -> io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let print = |out: &mut Out| {
        out.text(|out| {
            out.write_str(text)?;
            out.write_char('\n')
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
