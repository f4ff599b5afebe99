//! What `pyc check` and `pyc clean` share: the threads over the walk, a window that keeps them from
//! running far ahead of the printing, the order of the lines, and the progress bar.

// The library is `no_std`; the command is not.
use std::prelude::rust_2024::*;

use super::output::{Out, write_escaped};
use crate::tools::walk::{Found, Walk};
use core::fmt::{self, Write as _};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, mpsc};
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

/// Files a thread takes from the walk at once: few enough that problems still show while a long run
/// goes on, enough that the threads seldom meet at the walk.
const BATCH: usize = 32;

/// How far, in batches a thread, the batches handed out may run ahead of the first not yet printed.
const AHEAD: usize = 4;

/// The walk, handed out a batch at a time to whichever thread asks next, each batch numbered in walk
/// order, and never more than `window` batches past the first not yet printed: what waits to be
/// printed stays a few batches a thread however large the tree, and a reader that stops reading (a
/// pager, a full pipe) pauses the checking.
struct Batches {
    state: Mutex<Handout>,
    /// Signalled when printing moves on, and when the run stops.
    moved: Condvar,
    window: usize,
    bar: ProgressBar,
}

struct Handout {
    walk: Walk,
    /// The number of the next batch to hand out.
    next: usize,
    /// The number of the first batch not yet printed.
    printed: usize,
    /// Set when printing fails (a closed pipe) or a thread panicked: nothing more is handed out.
    stop: bool,
    /// How many threads wait for printing to move on: only then is there anyone to wake.
    waiting: usize,
}

/// What [`Batches::try_take`] gives.
enum Taken {
    Batch(usize, Vec<Found>),
    /// The next batch would be too far ahead of printing.
    Ahead,
    /// The walk is over, or the run stopped.
    Done,
}

impl Batches {
    fn new(walk: Walk, threads: usize, bar: ProgressBar) -> Batches {
        let state = Handout {
            walk,
            next: 0,
            printed: 0,
            stop: false,
            waiting: 0,
        };
        Batches {
            state: Mutex::new(state),
            moved: Condvar::new(),
            window: AHEAD * threads,
            bar,
        }
    }

    /// The next batch and its number, waiting while it would be too far ahead of printing; `None`
    /// once the walk is over or the run stops.
    fn take(&self) -> Option<(usize, Vec<Found>)> {
        let mut state = self.state.lock().ok()?;
        while !state.stop && state.next >= state.printed + self.window {
            state.waiting += 1;
            state = self.moved.wait(state).ok()?;
            state.waiting -= 1;
        }
        match self.hand_out(state) {
            Taken::Batch(number, batch) => Some((number, batch)),
            Taken::Ahead | Taken::Done => None,
        }
    }

    /// The next batch and its number, or why there is none now, without waiting.
    fn try_take(&self) -> Taken {
        match self.state.lock() {
            Ok(state) if state.next >= state.printed + self.window && !state.stop => Taken::Ahead,
            Ok(state) => self.hand_out(state),
            Err(_) => Taken::Done,
        }
    }

    fn hand_out(&self, mut state: MutexGuard<'_, Handout>) -> Taken {
        if state.stop {
            return Taken::Done;
        }
        // The first batches are small (1, 2, 4, 8, 16 files), so that a handful of heavy files
        // still spreads over the threads.
        let size = BATCH.min(1 << state.next.min(5));
        let batch: Vec<Found> = state.walk.by_ref().take(size).collect();
        if batch.is_empty() {
            return Taken::Done;
        }
        let number = state.next;
        state.next += 1;
        drop(state);
        self.bar.inc_length(batch.len() as u64);
        Taken::Batch(number, batch)
    }

    /// Every batch before `next` is printed.
    fn printed(&self, next: usize) {
        self.update(|state| state.printed = next);
    }

    /// Nothing more is handed out, and the threads that wait are woken to end.
    fn stop(&self) {
        self.update(|state| state.stop = true);
    }

    /// Changes the state, and wakes the threads that wait, if any (a wake is a system call).
    fn update(&self, change: impl FnOnce(&mut Handout)) {
        match self.state.lock() {
            Ok(mut state) => {
                change(&mut state);
                if state.waiting > 0 {
                    self.moved.notify_all();
                }
            }
            // A thread panicked holding the lock: wake everyone, to see it poisoned and end.
            Err(_) => self.moved.notify_all(),
        }
    }
}

/// Stops the run when the thread that holds it panics, so that no other thread waits for it forever.
struct StopOnPanic<'b>(&'b Batches);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
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
    let batches = Batches::new(walk, threads, progress.bar.clone());
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
                let _stop = StopOnPanic(batches);
                while let Some((number, batch)) = batches.take() {
                    if done_tx.send((number, checked(batch))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let _stop = StopOnPanic(batches);
        let mut printer = Printer {
            pending: BTreeMap::new(),
            next: 0,
            text: String::new(),
        };
        let mut print = |printer: &mut Printer<R>| {
            let printed = printer.print(out, &mut progress, &mut line);
            match printed {
                Ok(()) => batches.printed(printer.next),
                Err(_) => batches.stop(),
            }
            printed
        };
        loop {
            match batches.try_take() {
                Taken::Batch(number, batch) => {
                    printer.pending.insert(number, checked(batch));
                    printer.pending.extend(done_rx.try_iter());
                }
                // The batch to print next is with another thread (a slow file): wait for it.
                Taken::Ahead => match done_rx.recv() {
                    Ok((number, results)) => {
                        printer.pending.insert(number, results);
                    }
                    // The others are gone: only a panic, which stopped the run, ends them early.
                    Err(_) => break,
                },
                Taken::Done => break,
            }
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

/// One line, unless it is empty, above the bar when the bar is shown, its control characters escaped
/// (the paths in it, the file's and its source's, are names a hostile tree chose).
fn print_line(out: &mut Out, progress: &Progress, text: &str) -> io::Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    let print = |out: &mut Out| {
        out.text(|out| {
            write_escaped(out, text)?;
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
