//! Entry points: the strict, tolerant and validate-only parses of `.pyc` files and of raw marshal data,
//! each a method of [`Options`].
//!
//! All of them run the decoder the layout table names for the data (CPython's, or GraalPy's or
//! RustPython's own, see [`crate::read::dialect`]); they differ in what they keep. The strict parse returns the objects
//! or the first error; the tolerant parse returns everything decoded before the error together with it
//! (the same error the strict parse reports); the validating parse keeps nothing and is the fastest.

use super::build::Builder;
use super::decode::{self, Config};
use super::dialect::{graalpy, rustpython};
use super::header::{self, Header};
use super::options::Options;
use super::sink::{Discard, Forms};
use crate::base::error::{Error, ErrorKind, Fault};
use crate::base::reader::Reader;
use crate::format::layout::{CodeLayout, Format};
use crate::format::magic::Python;
use crate::format::tag;
use crate::object::{Code, Object, Objects};
use alloc::vec::Vec;

/// A strictly parsed `.pyc` file.
#[derive(Clone, Debug)]
pub struct Pyc<'a> {
    /// The header.
    pub header: Header,
    /// The marshalled objects; the root is a code object.
    pub objects: Objects<'a>,
}

impl<'a> Pyc<'a> {
    /// The module's code object (always present in a strict parse).
    pub fn code(&self) -> Option<Code<'_, 'a>> {
        self.objects.root().and_then(Object::as_code)
    }
}

/// What a tolerant parse could read, and why it stopped.
#[derive(Clone, Debug)]
pub struct Partial<'a> {
    /// The header, when it could be read (`None` for raw marshal data too).
    pub header: Option<Header>,
    /// Everything decoded; containers cut short are marked incomplete.
    pub objects: Objects<'a>,
    /// The error the strict parse reports, if any.
    pub error: Option<Error>,
}

impl Options {
    /// Parses a `.pyc` file: header, then one code object filling the rest of the input.
    pub fn parse_pyc<'a>(&self, data: &'a [u8]) -> Result<Pyc<'a>, Error> {
        let header = header::parse(data, self.python)?;
        let reading = self.reading(data, Some(&header));
        let mut builder = Builder::new(data, reading.0);
        let (root, error) = self.body(data, Some(&header), reading, &mut builder, false);
        match error {
            Some(error) => Err(error),
            None => {
                let mut objects = builder.finish(root);
                objects.magic = Some(header.magic());
                Ok(Pyc { header, objects })
            }
        }
    }

    /// Parses a `.pyc` file as far as it can: never fails, and returns the strict parse's error beside
    /// what was decoded before it.
    pub fn parse_pyc_tolerant<'a>(&self, data: &'a [u8]) -> Partial<'a> {
        let header = match header::parse(data, self.python) {
            Ok(header) => header,
            Err(error) => {
                let python = self.python.unwrap_or(Python::LATEST);
                return Partial {
                    header: None,
                    objects: Objects::new(data, python),
                    error: Some(error),
                };
            }
        };
        let reading = self.reading(data, Some(&header));
        let mut builder = Builder::new(data, reading.0);
        let (root, error) = self.body(data, Some(&header), reading, &mut builder, true);
        let mut objects = builder.finish(root);
        objects.magic = Some(header.magic());
        Partial {
            header: Some(header),
            objects,
            error,
        }
    }

    /// Checks a `.pyc` file as [`Options::parse_pyc`] does, keeping nothing.
    pub fn validate_pyc(&self, data: &[u8]) -> Result<Header, Error> {
        let header = header::parse(data, self.python)?;
        self.validate_parsed(data, &header)?;
        Ok(header)
    }

    /// [`Options::validate_pyc`] of a file whose header `header::parse` has already read.
    pub(crate) fn validate_parsed(&self, data: &[u8], header: &Header) -> Result<(), Error> {
        self.validate_body(data, header, &mut Discard)
    }

    /// Decodes the body of the `.pyc` file whose header is `header` into `sink`, as
    /// [`Options::validate_pyc`] does into nothing.
    pub(crate) fn validate_body<S: Forms>(
        &self,
        data: &[u8],
        header: &Header,
        sink: &mut S,
    ) -> Result<(), Error> {
        let reading = self.reading(data, Some(header));
        match self.body(data, Some(header), reading, sink, false).1 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Parses raw marshal data (`marshal.dumps` output): one object filling the input.
    pub fn parse_marshal<'a>(&self, data: &'a [u8]) -> Result<Objects<'a>, Error> {
        let reading = self.reading(data, None);
        let mut builder = Builder::new(data, reading.0);
        match self.body(data, None, reading, &mut builder, false) {
            (_, Some(error)) => Err(error),
            (root, None) => Ok(builder.finish(root)),
        }
    }

    /// Parses raw marshal data as far as it can.
    pub fn parse_marshal_tolerant<'a>(&self, data: &'a [u8]) -> Partial<'a> {
        let reading = self.reading(data, None);
        let mut builder = Builder::new(data, reading.0);
        let (root, error) = self.body(data, None, reading, &mut builder, true);
        Partial {
            header: None,
            objects: builder.finish(root),
            error,
        }
    }

    /// Checks raw marshal data as [`Options::parse_marshal`] does, keeping nothing.
    pub fn validate_marshal(&self, data: &[u8]) -> Result<(), Error> {
        let reading = self.reading(data, None);
        match self.body(data, None, reading, &mut Discard, false).1 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn python_or_latest(&self) -> Python {
        self.python.unwrap_or(Python::LATEST)
    }

    /// How to decode the body: the version whose dialect to read, and the code layout. The options
    /// decide if they say; else the header's magic, whose table entry may list other readings to try
    /// when its own does not decode the file ([`crate::format::magic::ALTERNATIVES`]).
    fn reading(&self, data: &[u8], header: Option<&Header>) -> (Python, CodeLayout) {
        let python = header.map_or(self.python_or_latest(), |h| h.python);
        let entry = header.and_then(|h| h.entry);
        let table = match (self.layout, entry) {
            (Some(layout), _) => return (python, layout),
            (None, Some(entry)) if self.python.is_none() => (python, entry.code),
            _ => return (python, python.code_layout()),
        };
        let alternatives = entry.map_or(&[][..], |entry| entry.alternatives());
        if alternatives.is_empty() {
            return table;
        }
        // The first reading that decodes the file; if none does, the one that reads furthest, so that a
        // file cut short is reported as truncated rather than as misread early on.
        let mut best = (table, 0);
        for reading in core::iter::once(table).chain(alternatives.iter().copied()) {
            match self.body(data, header, reading, &mut Discard, false).1 {
                None => return reading,
                Some(error) if error.offset() > best.1 => best = (reading, error.offset()),
                Some(_) => {}
            }
        }
        best.0
    }

    /// Decodes the object after the header (or at 0 without one) into `sink`, as `reading` says. With
    /// a header, the root must be a code object. Errors come in the order a reader meets them: a root
    /// that is not code, then whatever stops the decoder, then trailing bytes. `keep_going` decodes even
    /// when the root is not code, for the tolerant parse.
    fn body<S: Forms>(
        &self,
        data: &[u8],
        header: Option<&Header>,
        (python, layout): (Python, CodeLayout),
        sink: &mut S,
        keep_going: bool,
    ) -> (Option<S::Id>, Option<Error>) {
        let start = header.map_or(0, Header::size);
        let unreadable = match layout.format() {
            Format::Encrypted => Some(ErrorKind::Encrypted),
            Format::Unreadable => Some(ErrorKind::ForeignFormat),
            _ => None,
        };
        if let Some(kind) = unreadable {
            let fault = Fault::new(kind, start, "body");
            return (None, Some(fault.at(Vec::new())));
        }
        let mut first_error = None;
        if header.is_some() {
            let mut r = Reader::new(data, start);
            if let Ok(byte) = r.u8("type code") {
                if !matches!(byte & !tag::FLAG_REF, tag::CODE | tag::OLD_CODE) {
                    let fault = Fault::new(ErrorKind::RootNotCode, start, "type code");
                    first_error = Some(fault.at(Vec::new()));
                    if !keep_going {
                        return (None, first_error);
                    }
                }
            }
        }
        sink.read_as_python(python);
        let outcome = match layout.format() {
            Format::GraalPy => {
                let version = header.and_then(|h| graalpy::version_of_magic(h.magic()));
                let max_depth = self.max_depth;
                let config = graalpy::Config { max_depth, version };
                graalpy::decode(data, start, config, sink)
            }
            Format::RustPython => rustpython::decode(data, start, self.max_depth, sink),
            _ => {
                let config = Config {
                    max_depth: self.max_depth,
                    python,
                    layout,
                };
                decode::decode(data, start, config, sink)
            }
        };
        let trailing = match data.len().saturating_sub(outcome.end) {
            0 => None,
            n if outcome.error.is_none() => {
                let fault = Fault::new(ErrorKind::TrailingBytes(n as u64), outcome.end, "end");
                Some(fault.at(Vec::new()))
            }
            _ => None,
        };
        (outcome.root, first_error.or(outcome.error).or(trailing))
    }
}

/// Parses a `.pyc` file with the default [`Options`].
pub fn parse_pyc(data: &[u8]) -> Result<Pyc<'_>, Error> {
    Options::new().parse_pyc(data)
}

/// Parses raw marshal data with the default [`Options`] (read as the newest CPython).
pub fn parse_marshal(data: &[u8]) -> Result<Objects<'_>, Error> {
    Options::new().parse_marshal(data)
}
