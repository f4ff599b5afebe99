//! `pyc clean`: `pyc check`'s walk and pipeline, with `pycmarshal::tools::clean` deciding and removing.

// The library is `no_std`; the command is not.
use std::eprintln;
use std::prelude::rust_2024::*;

use super::args::CleanArgs;
use super::check::checker;
use super::output::{Out, exit};
use super::pipeline::{pipeline, threads};
use crate::tools::check::Report;
use crate::tools::clean::{Action, Cleaned, Cleaner, Tally};
use crate::tools::walk::{Found, Walk};
use core::fmt::Write as _;
use std::io;
use std::time::Instant;

pub fn run(args: &CleanArgs, out: &mut Out) -> io::Result<u8> {
    let start = Instant::now();
    let mut cleaner = Cleaner::new(checker(&args.check)?).dry_run(args.dry_run);
    if !args.only.is_empty() {
        cleaner = cleaner.only(&args.only).map_err(|status| {
            io::Error::other(format!("pyc clean never removes {status} files"))
        })?;
    }
    let mut tally = Tally::default();
    let clean = |found: Found| match found {
        Found::File { path, .. } => cleaner.clean_path(&path),
        Found::Failed { path, error } => Cleaned {
            report: Report::unreadable(&path, error),
            action: Action::Kept,
            error: None,
        },
    };
    let json = args.check.json;
    let walk = Walk::new(args.check.walked(), args.check.follow);
    pipeline(
        walk,
        threads(args.check.threads),
        clean,
        out,
        |cleaned, line| {
            tally.add(cleaned);
            if json {
                cleaned.write_json(line)?;
            } else if let Some(message) = cleaned.message() {
                write!(line, "{}: {message}", cleaned.report.path.display())?;
            }
            Ok(())
        },
    )?;
    let seconds = start.elapsed().as_secs_f64();
    out.text(|text| {
        if json {
            tally.write_json(text, seconds)?;
        } else {
            text.write_str(&tally.line(seconds))?;
        }
        text.write_char('\n')
    })?;
    if tally.summary.files == 0 {
        eprintln!("pyc: nothing to clean: no .pyc or .pyo files under the paths given");
        return Ok(exit(true));
    }
    Ok(exit(tally.left_problems()))
}
