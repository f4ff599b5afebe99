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
use std::sync::{Mutex, mpsc};
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

    fn tick(&mut self, files: u64) {
        self.bar.inc(files);
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

/// Files a thread takes from the walk at once: few enough that problems still show while a long run
/// goes on, enough that the threads seldom meet at the walk.
const BATCH: usize = 32;

/// The walk, handed out a batch at a time to whichever thread asks next, each batch numbered in walk
/// order.
struct Batches {
    walk: Mutex<(Walk, usize)>,
    bar: ProgressBar,
    /// Set when printing fails (a closed pipe): no more batches are handed out.
    stop: AtomicBool,
}

impl Batches {
    /// The next batch and its number, unless the walk is over or the run stops.
    fn next(&self) -> Option<(usize, Vec<Found>)> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        // A thread that panicked holding the walk has ended the run.
        let mut walk = self.walk.lock().ok()?;
        let (files, number) = &mut *walk;
        let batch: Vec<Found> = files.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return None;
        }
        let taken = *number;
        *number += 1;
        drop(walk);
        self.bar.inc_length(batch.len() as u64);
        Some((taken, batch))
    }
}

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
    let batches = Batches {
        walk: Mutex::new((walk, 0)),
        bar: progress.bar.clone(),
        stop: AtomicBool::new(false),
    };
    let (batches, work) = (&batches, &work);
    let checked = |batch: Vec<Found>| -> Vec<R> { batch.into_iter().map(work).collect() };
    let result = std::thread::scope(|scope| -> io::Result<()> {
        // Every thread takes batches from the walk; this one (the only one that may write to
        // stdout) checks its own and prints every batch once those before it are out. With one
        // thread, nothing waits on anything.
        let (done_tx, done_rx) = mpsc::channel::<(usize, Vec<R>)>();
        for _ in 1..threads {
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                while let Some((number, batch)) = batches.next() {
                    if done_tx.send((number, checked(batch))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut printer = Printer {
            pending: BTreeMap::new(),
            next: 0,
            text: String::new(),
        };
        let mut print = |printer: &mut Printer<R>| {
            printer
                .print(out, &mut progress, &mut line)
                .inspect_err(|_| {
                    batches.stop.store(true, Ordering::Relaxed);
                })
        };
        while let Some((number, batch)) = batches.next() {
            printer.pending.insert(number, checked(batch));
            printer.pending.extend(done_rx.try_iter());
            print(&mut printer)?;
        }
        for (number, results) in done_rx {
            printer.pending.insert(number, results);
            print(&mut printer)?;
        }
        Ok(())
    });
    progress.bar.finish_and_clear();
    result
}

/// The batches checked but not yet printed, by number, and the number of the next to print.
struct Printer<R> {
    pending: BTreeMap<usize, Vec<R>>,
    next: usize,
    text: String,
}

impl<R> Printer<R> {
    /// Prints every batch whose turn has come.
    fn print(
        &mut self,
        out: &mut Out,
        progress: &mut Progress,
        line: &mut impl FnMut(&R, &mut String) -> fmt::Result,
    ) -> io::Result<()> {
        while let Some(results) = self.pending.remove(&self.next) {
            self.next += 1;
            progress.tick(results.len() as u64);
            for result in &results {
                self.text.clear();
                line(result, &mut self.text).map_err(|_| io::Error::other("formatting failed"))?;
                print_line(out, progress, &self.text)?;
            }
        }
        Ok(())
    }
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
