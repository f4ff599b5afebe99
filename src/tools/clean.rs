//! Removing the caches importlib would refuse or rewrite (`pyc clean`), never one it would load.
//!
//! Each file is read once ([`file::read_pyc`], no link followed at its name) and judged by
//! [`Checker::check_contents`], the checks of `pyc check`. A file is removed only when its status is one
//! of the selection, all of them by default ([`REMOVABLE`]), and only if it is still the file that was
//! read ([`file::remove_if_same`]: device, inode, size and mtime): a cache a writer replaced or
//! rewrote since it was judged is left alone. Nothing is said of what an importer would do with an
//! `ok` file, a `changing` one or an `unreadable` one, so they are never removed.

use crate::tools::check::{Checker, Report, Status, Summary};
use crate::tools::file::{self, Removal};
use crate::tools::json;
use core::fmt::{self, Write};
use std::io;
use std::path::Path;
use std::string::{String, ToString};

/// The statuses whose files importlib would not load as they stand, which `pyc clean` removes: it
/// recompiles and rewrites a `stale` cache (and one it cannot read: `truncated`, `corrupt`,
/// `unknown-magic`, `incomplete-write`, or one whose name's tag is another interpreter's), and never
/// looks at an `orphan` or a file misnamed in `__pycache__`. A cut body of a cache that is otherwise
/// current is worse: the import fails with `EOFError: marshal data too short`.
pub const REMOVABLE: [Status; 7] = [
    Status::Stale,
    Status::Orphan,
    Status::Truncated,
    Status::Corrupt,
    Status::UnknownMagic,
    Status::TagMismatch,
    Status::IncompleteWrite,
];

/// What was done with one file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Removed.
    Removed,
    /// Selected for removal, in a dry run: left as it is.
    WouldRemove,
    /// Selected, but by the time of its removal it was no longer the file that was read (a writer
    /// replaced or rewrote it): left as it is.
    Changed,
    /// Selected, but it could not be removed (the error is [`Cleaned::error`]).
    Failed,
    /// Left as it is: ok, not selected, or not to be judged (changing, unreadable).
    Kept,
}

impl Action {
    /// Every action, in the order summaries list them.
    pub const ALL: [Action; 5] = [
        Action::Removed,
        Action::WouldRemove,
        Action::Changed,
        Action::Failed,
        Action::Kept,
    ];

    /// The stable name: `removed`, `would-remove`, `changed`, `failed` or `kept`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Removed => "removed",
            Action::WouldRemove => "would-remove",
            Action::Changed => "changed",
            Action::Failed => "failed",
            Action::Kept => "kept",
        }
    }

    fn index(self) -> usize {
        Action::ALL.iter().position(|&a| a == self).unwrap_or(0)
    }
}

/// The verdict on one file and what was done with it.
#[derive(Debug)]
pub struct Cleaned {
    /// What `pyc check` says of it.
    pub report: Report,
    /// What was done.
    pub action: Action,
    /// Why it could not be removed ([`Action::Failed`]).
    pub error: Option<io::Error>,
}

impl Cleaned {
    /// What `pyc clean` prints after `PATH: `, or `None` for an ok file, which it does not mention:
    /// `removed: stale: ...`, `would remove: ...`, `kept: ...`, `kept, since it changed after it was
    /// checked ...: ...`, `cannot remove: ERROR: ...`.
    pub fn message(&self) -> Option<String> {
        let problem = self.report.message()?;
        let mut out = String::new();
        let _ = match (self.action, &self.error) {
            (Action::Removed, _) => write!(out, "removed: {problem}"),
            (Action::WouldRemove, _) => write!(out, "would remove: {problem}"),
            (Action::Changed, _) => write!(
                out,
                "kept, since it changed after it was checked (a writer replaced or rewrote it): {problem}"
            ),
            (Action::Failed, Some(error)) => write!(out, "cannot remove: {error}: {problem}"),
            (Action::Failed | Action::Kept, _) => write!(out, "kept: {problem}"),
        };
        Some(out)
    }

    /// Writes one JSON object (no newline): the members of [`Report::write_json`], then `action` (see
    /// [`Action::name`]) and `action_error` (why a removal failed, else `null`).
    pub fn write_json(&self, out: &mut impl Write) -> fmt::Result {
        out.write_char('{')?;
        self.report.write_json_members(out)?;
        write!(
            out,
            ",\"action\":\"{}\",\"action_error\":",
            self.action.name()
        )?;
        match &self.error {
            Some(error) => json::write_str(out, &error.to_string())?,
            None => out.write_str("null")?,
        }
        out.write_char('}')
    }
}

/// The counts of a run: the statuses, as `pyc check` counts them, and the actions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// The statuses.
    pub summary: Summary,
    actions: [u64; Action::ALL.len()],
}

impl Tally {
    /// Counts one file.
    pub fn add(&mut self, cleaned: &Cleaned) {
        self.summary.add(&cleaned.report);
        if let Some(count) = self.actions.get_mut(cleaned.action.index()) {
            *count += 1;
        }
    }

    /// Files whose action was `action`.
    pub fn count(&self, action: Action) -> u64 {
        self.actions.get(action.index()).copied().unwrap_or(0)
    }

    /// True when a run leaves behind a file it should have dealt with: one it would remove (a dry run),
    /// one it could not remove, or one it could not judge (`changing`, `unreadable`).
    pub fn left_problems(&self) -> bool {
        self.count(Action::WouldRemove) > 0
            || self.count(Action::Failed) > 0
            || self.summary.count(Status::Changing) > 0
            || self.summary.count(Status::Unreadable) > 0
    }

    /// `pyc check`'s summary line, then what was done: `12 files, 0.1 MB in 0.01 s: 9 ok, 3 stale;
    /// removed 3` (actions with no file left out; kept files only when they have a problem).
    pub fn line(&self, seconds: f64) -> String {
        let mut out = self.summary.line(seconds);
        let mut sep = "; ";
        for action in Action::ALL {
            let (words, count) = match action {
                Action::Removed => ("removed", self.count(action)),
                Action::WouldRemove => ("would remove", self.count(action)),
                Action::Changed => ("left as they changed after the check", self.count(action)),
                Action::Failed => ("could not remove", self.count(action)),
                Action::Kept => (
                    "kept with a problem",
                    self.count(action) - self.summary.count(Status::Ok),
                ),
            };
            if count > 0 {
                let _ = write!(out, "{sep}{words}: {count}");
                sep = ", ";
            }
        }
        out
    }

    /// Writes the closing JSON object (no newline, no `path` key): the members of
    /// [`Summary::write_json`], then `actions`, every action's count by name (zeros included).
    pub fn write_json(&self, out: &mut impl Write, seconds: f64) -> fmt::Result {
        out.write_char('{')?;
        self.summary.write_json_members(out, seconds)?;
        out.write_str(",\"actions\":{")?;
        for (i, action) in Action::ALL.into_iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            write!(out, "\"{}\":{}", action.name(), self.count(action))?;
        }
        out.write_str("}}")
    }
}

/// How files are cleaned.
#[derive(Clone, Debug)]
pub struct Cleaner {
    checker: Checker,
    selected: [bool; REMOVABLE.len()],
    dry_run: bool,
}

impl Cleaner {
    /// Judges files with `checker` and removes those of every [`REMOVABLE`] status.
    pub fn new(checker: Checker) -> Cleaner {
        Cleaner {
            checker,
            selected: [true; REMOVABLE.len()],
            dry_run: false,
        }
    }

    /// Removes files of these statuses only. A status that is never removed (`ok`, `changing`,
    /// `unreadable`) is refused: it comes back as the error.
    pub fn only(mut self, statuses: &[Status]) -> Result<Cleaner, Status> {
        self.selected = [false; REMOVABLE.len()];
        for &status in statuses {
            let i = REMOVABLE.iter().position(|&s| s == status).ok_or(status)?;
            if let Some(selected) = self.selected.get_mut(i) {
                *selected = true;
            }
        }
        Ok(self)
    }

    /// With `true`, removes nothing: the files that would be removed are [`Action::WouldRemove`].
    pub const fn dry_run(mut self, dry_run: bool) -> Cleaner {
        self.dry_run = dry_run;
        self
    }

    /// True when files of `status` are removed.
    pub fn removes(&self, status: Status) -> bool {
        REMOVABLE
            .iter()
            .zip(self.selected)
            .any(|(&s, selected)| selected && s == status)
    }

    /// Reads the file at `path` without following a link there, judges it, and removes it if its
    /// status is selected and it is still the file that was read. Never fails: what went wrong is in
    /// the report or the action.
    pub fn clean_path(&self, path: &Path) -> Cleaned {
        let contents = match file::read_pyc(path, false) {
            Ok(contents) => contents,
            Err(error) => {
                let report = Report::unreadable(path, error);
                let (action, error) = (Action::Kept, None);
                return Cleaned {
                    report,
                    action,
                    error,
                };
            }
        };
        let report = self.checker.check_contents(path, &contents);
        let (action, error) = if !self.removes(report.status()) {
            (Action::Kept, None)
        } else if self.dry_run {
            (Action::WouldRemove, None)
        } else {
            match file::remove_if_same(path, &contents.identity) {
                Ok(Removal::Removed) => (Action::Removed, None),
                Ok(Removal::Changed) => (Action::Changed, None),
                Err(error) => (Action::Failed, Some(error)),
            }
        };
        Cleaned {
            report,
            action,
            error,
        }
    }
}
