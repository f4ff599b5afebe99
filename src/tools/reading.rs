//! How a tool reads one file's bytes when the user says how: with its header or as raw marshal data, as
//! a named version, or as the data's own structure suggests; Dropbox's encrypted files decrypted first.
//!
//! The `pyc dump` command, the Python binding and anything else that shows a file go through
//! [`Reading::new`], so that they agree on what a file is.

use crate::base::error::Error;
use crate::format::magic::{Implementation, Python};
use crate::read::dialect::dropbox;
use crate::read::header;
use crate::read::options::Options;
use crate::read::parse::Partial;
use crate::tools::infer::{self, Candidate};
use alloc::borrow::Cow;
use alloc::vec::Vec;

/// What the user says about the bytes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct How {
    /// The bytes are raw marshal data (`marshal.dumps` output, or a body whose header was stripped).
    pub no_header: bool,
    /// Read them as this version wrote them.
    pub python: Option<Python>,
    /// Ignore the header: infer where the marshal data starts and how to read it.
    pub infer: bool,
}

/// How one file's bytes will be read, decided from what the user said and from the bytes.
#[derive(Debug)]
pub struct Reading<'d> {
    /// The bytes to parse: the file's own, or Dropbox's decrypted stream.
    pub data: Cow<'d, [u8]>,
    /// Where the marshal data starts when it is read without a header.
    pub start: usize,
    /// Whether the data is read as raw marshal data (no header).
    pub raw: bool,
    /// The options the parse uses.
    pub options: Options,
    /// What was inferred, when the reading was inferred: the header size skipped and the readings
    /// that decode the data, most plausible first (empty when none does).
    pub inferred: Option<(usize, Vec<Candidate>)>,
    /// True when the data is Dropbox's file decrypted: offsets are then the decrypted stream's.
    pub decrypted: bool,
    /// Why a Dropbox file could not be decrypted; the parse then reports it.
    pub decrypt_error: Option<Error>,
}

impl<'d> Reading<'d> {
    /// Decides how to read `data`: inferring without `python` when there is no header (or `infer`
    /// says to ignore it), decrypting a Dropbox file read with its header.
    pub fn new(data: &'d [u8], how: How) -> Reading<'d> {
        let mut options = Options::new();
        if let Some(python) = how.python {
            options = options.python(python);
        }
        let inferred = if how.infer {
            Some(infer::infer_pyc(data).unwrap_or((0, Vec::new())))
        } else if how.no_header && how.python.is_none() {
            Some((0, infer::infer_version(data)))
        } else {
            None
        };
        let mut reading = Reading {
            data: Cow::Borrowed(data),
            start: 0,
            raw: how.no_header || inferred.is_some(),
            options,
            inferred: None,
            decrypted: false,
            decrypt_error: None,
        };
        if let Some((start, candidates)) = inferred {
            reading.start = start;
            if let Some(best) = candidates.first() {
                reading.options = best.options();
            }
            reading.inferred = Some((start, candidates));
            return reading;
        }
        let dropbox = !reading.raw
            && header::parse(data, how.python)
                .is_ok_and(|header| header.python.implementation == Implementation::Dropbox);
        if dropbox {
            match dropbox::decrypt(data) {
                Ok(plain) => {
                    reading.data = Cow::Owned(plain);
                    reading.options = dropbox::OPTIONS;
                    reading.decrypted = true;
                }
                Err(error) => reading.decrypt_error = Some(error),
            }
        }
        reading
    }

    /// The tolerant parse of the data as decided: everything decoded up to the first fault, with it.
    pub fn parse(&self) -> Partial<'_> {
        let mut partial = if self.raw {
            let body = self.data.get(self.start..).unwrap_or_default();
            self.options.parse_marshal_tolerant(body)
        } else {
            self.options.parse_pyc_tolerant(&self.data)
        };
        if let Some(error) = &self.decrypt_error {
            partial.error = Some(error.clone());
        }
        partial
    }
}
