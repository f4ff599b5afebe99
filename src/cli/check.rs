//! `pyc check`: the checker the arguments ask for, over the walk on the pipeline's threads, a line per
//! problem (or per file with `--json`) and the summary. What each file is comes from
//! `pycmarshal::tools::check`, which files from `pycmarshal::tools::walk`.

// The library is `no_std`; the command is not.
use std::eprintln;
use std::prelude::rust_2024::*;

use super::args::CheckArgs;
use super::output::{Out, exit};
use super::pipeline::{pipeline, threads};
use crate::tools::check::{Checker, Report, Summary};
use crate::tools::walk::{Found, Walk};
use core::fmt::Write as _;
use std::io;
use std::time::Instant;

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
