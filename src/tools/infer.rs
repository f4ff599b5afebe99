//! Which Python wrote marshal data whose header is missing (PyInstaller and other packers strip it) or
//! says nothing useful (an unknown or wrong magic): try every way of reading code objects, keep those
//! that decode the whole input strictly, and rank them by how plausible the fields they give are.
//!
//! The readings and the plausibility rules are data: [`READINGS`] lists each code-object layout with the
//! string dialect and line-table format that go with it, and [`problems`] applies the same rules to any
//! layout through its field names.

use crate::format::layout::{CodeLayout, LineTable};
use crate::format::magic::{Implementation, Python};
use crate::object::{Code, ObjectId, Objects, Value};
use crate::read::options::Options;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Versions of one implementation: the implementation, the first and the last language version.
pub type Span = (Implementation, (u8, u8), (u8, u8));

/// One way of reading code objects: a layout, the line-table format that goes with it, and the
/// versions that write them so (the first of which decides the string dialect).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reading {
    /// The code-object fields.
    pub layout: CodeLayout,
    /// The format of the line-number table, as far as its shape goes ([`LineTable::Lnotab`] stands
    /// for both kinds of lnotab: their pairs add up alike).
    pub lines: LineTable,
    /// The versions that write code objects this way; they share a string dialect.
    pub span: &'static [Span],
}

impl Reading {
    /// The first version that reads this way; the data is decoded as it would read it.
    pub fn python(&self) -> Python {
        let (implementation, (major, minor), _) = self.span.first().copied().unwrap_or((
            Implementation::CPython,
            (Python::LATEST.major, Python::LATEST.minor),
            (0, 0),
        ));
        Python {
            implementation,
            major,
            minor,
        }
    }

    /// True when `python` writes code objects this way.
    pub fn covers(&self, python: Python) -> bool {
        let version = (python.major, python.minor);
        self.span.iter().any(|&(implementation, first, last)| {
            implementation == python.implementation && (first..=last).contains(&version)
        })
    }

    /// The versions in words: `CPython 3.8-3.9, PyPy 3.8-3.9`.
    pub fn versions(&self) -> String {
        let spans: Vec<String> = self
            .span
            .iter()
            .map(|&(implementation, (a, b), (c, d))| match (a, b) == (c, d) {
                true => format!("{} {a}.{b}", implementation.name()),
                false => format!("{} {a}.{b}-{c}.{d}", implementation.name()),
            })
            .collect();
        spans.join(", ")
    }
}

use CodeLayout::{PyPy3_11, V1_0, V1_3, V1_5, V2_1, V2_3, V3_0, V3_8, V3_10, V3_11};
use Implementation::{CPython, PyPy};
use LineTable::{Lnotab, Locations, Missing, PyPyPositions, Ranges, SignedLnotab};

/// Every reading, in the order that breaks ties between equally plausible ones: newer and more common
/// first, CPython's dialect before PyPy 3.2's (which also accepts byte-string names), and a reading
/// whose line table goes unchecked after those whose line table is checked.
#[rustfmt::skip] // a table: one reading a line
pub static READINGS: &[Reading] = &[
    Reading { layout: V3_11, lines: Locations, span: &[(CPython, (3, 11), (3, 15))] },
    Reading { layout: V3_10, lines: Ranges, span: &[(CPython, (3, 10), (3, 10))] },
    Reading { layout: V3_8, lines: Lnotab, span: &[(CPython, (3, 8), (3, 9)), (PyPy, (3, 8), (3, 9))] },
    Reading { layout: V3_8, lines: PyPyPositions, span: &[(PyPy, (3, 10), (3, 10))] },
    Reading { layout: PyPy3_11, lines: PyPyPositions, span: &[(PyPy, (3, 11), (3, 11))] },
    Reading { layout: V3_0, lines: Lnotab, span: &[(CPython, (3, 0), (3, 7)), (PyPy, (3, 3), (3, 7))] },
    Reading { layout: V3_0, lines: Lnotab, span: &[(PyPy, (3, 2), (3, 2))] },
    Reading { layout: V2_3, lines: Lnotab, span: &[(CPython, (2, 3), (2, 7)), (PyPy, (2, 7), (2, 7))] },
    Reading { layout: V2_1, lines: Lnotab, span: &[(CPython, (2, 1), (2, 2))] },
    Reading { layout: V1_5, lines: Lnotab, span: &[(CPython, (1, 5), (2, 0))] },
    Reading { layout: V1_3, lines: Missing, span: &[(CPython, (1, 3), (1, 4))] },
    Reading { layout: V1_0, lines: Missing, span: &[(CPython, (1, 0), (1, 2))] },
];

/// A reading that decodes the whole input strictly, and how plausible the result is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The reading.
    pub reading: &'static Reading,
    /// Field values that break a rule every compiler keeps (see [`problems`]), over all code objects.
    pub problems: u32,
    /// The number of code objects decoded.
    pub codes: u32,
}

impl Candidate {
    /// Options that read the input this way.
    pub fn options(&self) -> Options {
        Options::new()
            .python(self.reading.python())
            .code_layout(self.reading.layout)
    }
}

/// The readings under which `data` (raw marshal data, such as a `.pyc` body without its header) decodes
/// strictly to the end, most plausible first. Empty when none does.
pub fn infer_version(data: &[u8]) -> Vec<Candidate> {
    let mut found = Vec::new();
    for reading in READINGS {
        let options = Options::new()
            .python(reading.python())
            .code_layout(reading.layout);
        // The validating parse first: most readings fail at once, and it allocates nothing.
        if options.validate_marshal(data).is_err() {
            continue;
        }
        let Ok(objects) = options.parse_marshal(data) else {
            continue;
        };
        let Some((problems, codes)) = score(&objects, reading) else {
            continue;
        };
        found.push(Candidate {
            reading,
            problems,
            codes,
        });
    }
    // A stable sort keeps the table's order among equals.
    found.sort_by_key(|candidate| candidate.problems);
    found
}

/// Header sizes a `.pyc` file may have (PEP 552; 3.3-3.6 with the source size; older), and none.
pub const HEADER_SIZES: [usize; 4] = [16, 12, 8, 0];

/// Where the marshal data of a `.pyc` file with an unknown or untrustworthy header starts, and the
/// readings of what follows: the header size after which the most plausible reading decodes to the end
/// (the first of [`HEADER_SIZES`] among equals). `None` when nothing decodes after any of them.
pub fn infer_pyc(data: &[u8]) -> Option<(usize, Vec<Candidate>)> {
    HEADER_SIZES
        .iter()
        .filter_map(|&size| {
            let body = data.get(size..)?;
            let candidates = infer_version(body);
            let best = candidates.first()?.problems;
            Some((best, size, candidates))
        })
        .min_by_key(|&(best, _, _)| best)
        .map(|(_, size, candidates)| (size, candidates))
}

/// One line saying what was inferred: the best reading, and how many others decode too.
pub fn summary(candidates: &[Candidate]) -> String {
    let Some(best) = candidates.first() else {
        return String::from("no reading decodes the data");
    };
    let mut line = format!(
        "{} (code layout {:?}; {} implausible field{})",
        best.reading.versions(),
        best.reading.layout,
        best.problems,
        if best.problems == 1 { "" } else { "s" }
    );
    let others: Vec<String> = candidates
        .iter()
        .skip(1)
        .map(|c| format!("{} ({})", c.reading.versions(), c.problems))
        .collect();
    if !others.is_empty() {
        line.push_str("; also decodes as ");
        line.push_str(&others.join(", "));
    }
    line
}

/// The problems of every code object in the table and their number: each code object once, as a node
/// of the table (a back-reference to one is not counted again), so that the time is linear in the
/// table whatever the sharing. `None` when a code object was not read with the reading's layout: type
/// `C` has Python 1.0's fields whatever the reading says, so only the 1.0 reading explains it.
fn score(objects: &Objects<'_>, reading: &Reading) -> Option<(u32, u32)> {
    let (mut total, mut codes) = (0u32, 0u32);
    // The sum of each line table's bytecode increments, by table: tables may be shared.
    let mut covered = BTreeMap::new();
    for object in objects.nodes() {
        let Value::Code(code) = object.value() else {
            continue;
        };
        if code.layout() != reading.layout {
            return None;
        }
        total = total.saturating_add(problems_with(&code, reading.lines, &mut covered));
        codes = codes.saturating_add(1);
    }
    Some((total, codes))
}

/// Integer fields and the values compilers give them: counts of arguments and locals stay small, flags
/// stay within the bits any version defines, line numbers are not negative.
const INT_RANGES: &[(&str, i32, i32)] = &[
    ("co_argcount", 0, 10_000),
    ("co_posonlyargcount", 0, 10_000),
    ("co_kwonlyargcount", 0, 10_000),
    ("co_nlocals", 0, 100_000),
    ("co_stacksize", 0, 1_000_000),
    ("co_flags", 0, 0x0fff_ffff),
    ("co_firstlineno", 0, 10_000_000),
];

/// The rules a code object breaks when read the wrong way, counted: integer fields out of range,
/// `co_nlocals` unlike the number of `co_varnames`, more positional-only than positional arguments,
/// localsplus names and kinds of different lengths, empty bytecode, and a line table whose shape does
/// not fit `lines`.
pub fn problems(code: &Code<'_, '_>, lines: LineTable) -> u32 {
    problems_with(code, lines, &mut BTreeMap::new())
}

/// [`problems`], with the increments of the line tables met so far.
fn problems_with(
    code: &Code<'_, '_>,
    lines: LineTable,
    covered: &mut BTreeMap<ObjectId, usize>,
) -> u32 {
    let mut count = 0;
    let mut rule = |broken: bool| count += u32::from(broken);
    for &(name, low, high) in INT_RANGES {
        if let Some(value) = code.int(name) {
            rule(!(low..=high).contains(&value));
        }
    }
    let len = |name: &str| code.get(name).map(|o| o.items().map_or(0, |i| i.len()));
    if let (Some(nlocals), Some(varnames)) = (code.nlocals(), len("co_varnames")) {
        rule(usize::try_from(nlocals).ok() != Some(varnames));
    }
    if let (Some(posonly), Some(args)) = (code.posonlyargcount(), code.argcount()) {
        rule(posonly > args);
    }
    if let (Some(kinds), Some(names)) = (code.localspluskinds(), len("co_localsplusnames")) {
        rule(kinds.len() != names);
    }
    let bytecode = code.bytecode().map_or(0, <[u8]>::len);
    rule(bytecode == 0);
    let table = code
        .get("co_lnotab")
        .or_else(|| code.get("co_linetable"))
        .map(|object| object.resolve());
    if let Some((table, bytes)) = table.and_then(|t| Some((t.id(), t.as_bytes()?))) {
        // The first byte of each pair is a bytecode length in both formats that have pairs.
        let covered = *covered
            .entry(table)
            .or_insert_with(|| bytes.iter().step_by(2).map(|&b| usize::from(b)).sum());
        match lines {
            Lnotab | SignedLnotab => {
                rule(bytes.len() % 2 != 0 || (covered > 0 && covered >= bytecode))
            }
            Ranges => rule(bytes.len() % 2 != 0 || covered != bytecode),
            Missing | Locations | PyPyPositions => {}
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_but_the_foreign_one_has_a_reading() {
        for layout in CodeLayout::ALL {
            assert!(
                READINGS.iter().any(|r| r.layout == layout),
                "{layout:?} has no reading"
            );
        }
    }

    #[test]
    fn each_reading_uses_the_line_table_of_every_version_it_covers() {
        for reading in READINGS {
            for &(implementation, (a, b), (c, d)) in reading.span {
                for (major, minor) in [(a, b), (c, d)] {
                    let python = Python {
                        implementation,
                        major,
                        minor,
                    };
                    let table = match python.line_table() {
                        SignedLnotab => Lnotab,
                        table => table,
                    };
                    assert_eq!(table, reading.lines, "{reading:?}");
                }
            }
        }
    }

    #[test]
    fn each_reading_uses_the_layout_of_every_version_it_covers() {
        for reading in READINGS {
            for &(implementation, (a, b), (c, d)) in reading.span {
                for (major, minor) in [(a, b), (c, d)] {
                    let python = Python {
                        implementation,
                        major,
                        minor,
                    };
                    assert_eq!(python.code_layout(), reading.layout, "{reading:?}");
                    assert!(reading.covers(python), "{reading:?}");
                }
            }
        }
    }
}
