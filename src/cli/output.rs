//! Where the commands print: standard output, buffered, through the `fmt::Write` that the library's
//! writers take, so that a dump or a JSON document goes out as it is made, never built whole.

// The library is `no_std`; the command is not.
use std::prelude::rust_2024::*;

use std::fmt;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::path::Path;

/// Standard output.
pub struct Out {
    inner: BufWriter<StdoutLock<'static>>,
}

/// The `fmt::Write` side of [`Out`]: it keeps the I/O error that stopped a write, so that a closed
/// pipe is told from a formatting failure.
pub struct Text<'o> {
    inner: &'o mut BufWriter<StdoutLock<'static>>,
    error: Option<io::Error>,
}

impl fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.inner.write_all(s.as_bytes()).map_err(|error| {
            self.error = Some(error);
            fmt::Error
        })
    }
}

impl Out {
    /// Standard output, locked for the whole run.
    pub fn stdout() -> Out {
        Out {
            inner: BufWriter::new(io::stdout().lock()),
        }
    }

    /// Runs `write` over the output; the I/O error that stopped it, if one did, comes back.
    pub fn text(&mut self, write: impl FnOnce(&mut Text<'_>) -> fmt::Result) -> io::Result<()> {
        let mut text = Text {
            inner: &mut self.inner,
            error: None,
        };
        match (write(&mut text), text.error) {
            (_, Some(error)) => Err(error),
            (Err(fmt::Error), None) => Err(io::Error::other("formatting failed")),
            (Ok(()), None) => Ok(()),
        }
    }

    /// Sends what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Exit status 1 when there were problems, else 0 (2, usage errors, is clap's).
pub fn exit(problems: bool) -> u8 {
    u8::from(problems)
}

/// A path as the commands print it, its control characters escaped (see [`write_escaped`]).
pub struct Shown<'p>(pub &'p Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.0.to_string_lossy())
    }
}

/// `text` with its control characters escaped as Rust writes them (`\n`, `\u{1b}`): a file's name may
/// hold a newline or a terminal escape, and must neither forge a line of the output (`x.pyc: ok`)
/// nor drive the terminal. JSON lines have none left to escape.
pub fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    if !text.chars().any(char::is_control) {
        return out.write_str(text);
    }
    for c in text.chars() {
        if c.is_control() {
            write!(out, "{}", c.escape_debug())?;
        } else {
            out.write_char(c)?;
        }
    }
    Ok(())
}
