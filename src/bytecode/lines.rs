//! Line numbers and source positions: `co_lnotab` of 1.5-3.9 (unsigned line increments before 3.6,
//! signed after), 3.10's `co_linetable` of ranges, the location table of 3.11 and later (lines and
//! columns) and PyPy 3.10's positions, decoded as the interpreters' own readers decode them, into what
//! `dis.findlinestarts`, `co_lines()` and `co_positions()` give.

use crate::base::error::{Error, ErrorKind, Step};
use crate::format::layout::LineTable;
use crate::format::magic::Python;
use alloc::vec::Vec;

/// Where a line begins: the offset in bytes from the start of `co_code`, and the line (`None` for
/// code without one, which 3.13's `dis.findlinestarts` lists).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LineStart {
    /// The offset in bytes.
    pub offset: u32,
    /// The line.
    pub line: Option<i64>,
}

/// A range of the code and its line, as `co_lines()` gives them: `start..end` in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LineRange {
    /// The first byte of the range.
    pub start: u32,
    /// The byte after its last.
    pub end: u32,
    /// Its line, `None` for code without one.
    pub line: Option<i64>,
}

/// Where one code unit's source is, as `co_positions()` gives it (3.11+); each part `None` when the
/// table does not say.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// The first line.
    pub line: Option<i64>,
    /// The last line.
    pub end_line: Option<i64>,
    /// The first column (0-based, in UTF-8 bytes).
    pub column: Option<i64>,
    /// The column after the last.
    pub end_column: Option<i64>,
}

/// A line table as stored: its format, bytes and absolute offset, the first line, the code's length.
pub(crate) struct Table<'a> {
    pub format: LineTable,
    /// The field's name: `co_lnotab` (PyPy 3.10's positions too) or `co_linetable`.
    pub field: &'static str,
    pub python: Python,
    pub bytes: &'a [u8],
    pub base: u64,
    pub first_line: i64,
    pub code_len: u32,
}

impl Table<'_> {
    fn fault(&self, at: usize) -> Error {
        let path = [Step::Field(self.field), Step::Index(at as u32)];
        super::instructions::located(
            ErrorKind::BadLineTable,
            self.base + at as u64,
            &path,
            "entry",
        )
    }

    /// `dis.findlinestarts`: where each line begins.
    pub fn line_starts(&self) -> Result<Vec<LineStart>, Error> {
        match self.format {
            LineTable::Lnotab | LineTable::SignedLnotab => self.lnotab_starts(),
            LineTable::Missing => Ok(Vec::new()),
            LineTable::Ranges | LineTable::Locations | LineTable::PyPyPositions => {
                // 3.13's lists the code without a line too, each time it begins.
                let with_none = (self.python.major, self.python.minor) >= (3, 13);
                let mut starts = Vec::new();
                let mut last: Option<Option<i64>> = None;
                self.each_line(|range| {
                    let listed = with_none || range.line.is_some();
                    if listed && last != Some(range.line) {
                        starts.push(LineStart {
                            offset: range.start,
                            line: range.line,
                        });
                        last = Some(range.line);
                    }
                })?;
                Ok(starts)
            }
        }
    }

    /// The pairs of an lnotab, checked whole.
    fn pairs(&self) -> Result<impl Iterator<Item = (u32, i64)> + '_, Error> {
        let pairs = self.bytes.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(self.fault(self.bytes.len() - 1));
        }
        let signed = self.format == LineTable::SignedLnotab;
        Ok(pairs.map(move |pair| {
            // proven: chunks of exactly 2
            let (bytes, line) = (pair[0], pair[1]);
            let line = if signed {
                i64::from(line as i8)
            } else {
                i64::from(line)
            };
            (u32::from(bytes), line)
        }))
    }

    /// The sum of an lnotab's bytecode increments: where its last line begins.
    pub fn lnotab_extent(&self) -> Result<u64, Error> {
        Ok(self.pairs()?.map(|(bytes, _)| u64::from(bytes)).sum())
    }

    /// `findlinestarts` over an lnotab, as each version's `dis` walks it (3.8 and later stop where
    /// the code ends).
    fn lnotab_starts(&self) -> Result<Vec<LineStart>, Error> {
        let mut starts = Vec::new();
        self.each_lnotab_start(|start| starts.push(start))?;
        Ok(starts)
    }

    /// Calls `each` with every line start of an lnotab, in order.
    fn each_lnotab_start(&self, mut each: impl FnMut(LineStart)) -> Result<(), Error> {
        let stops = (self.python.major, self.python.minor) >= (3, 8);
        let (mut line, mut last, mut address) = (self.first_line, None, 0u32);
        for (bytes, increment) in self.pairs()? {
            if bytes != 0 {
                if last != Some(line) {
                    each(LineStart {
                        offset: address,
                        line: Some(line),
                    });
                    last = Some(line);
                }
                address = address.saturating_add(bytes);
                if stops && address >= self.code_len {
                    return Ok(());
                }
            }
            line = line.saturating_add(increment);
        }
        if last != Some(line) {
            each(LineStart {
                offset: address,
                line: Some(line),
            });
        }
        Ok(())
    }

    /// `co_lines()`: the ranges of the code and their lines. Before 3.10, which has no `co_lines`, the
    /// ranges between the line starts.
    pub fn lines(&self) -> Result<Vec<LineRange>, Error> {
        let mut out = Vec::new();
        self.each_line(|range| out.push(range))?;
        Ok(out)
    }

    /// Calls `each` with every range [`Table::lines`] gives, in order, keeping none.
    pub fn each_line(&self, mut each: impl FnMut(LineRange)) -> Result<(), Error> {
        match self.format {
            LineTable::Ranges => self.each_range(each),
            LineTable::Locations | LineTable::PyPyPositions => {
                let cpython = self.format == LineTable::Locations;
                if cpython && (self.python.major, self.python.minor) < (3, 12) {
                    return self.each_entry(|range, _| each(range));
                }
                // From 3.12, `co_lines()` merges neighbouring entries of the same line; PyPy's
                // entries are single code units, merged the same way into PEP 626 ranges.
                let mut pending: Option<LineRange> = None;
                self.each_entry(|range, _| match &mut pending {
                    Some(last) if last.line == range.line => last.end = range.end,
                    _ => {
                        if let Some(done) = pending.replace(range) {
                            each(done);
                        }
                    }
                })?;
                pending.into_iter().for_each(each);
                Ok(())
            }
            LineTable::Missing | LineTable::Lnotab | LineTable::SignedLnotab => {
                let code_len = self.code_len;
                let mut pending: Option<LineStart> = None;
                let mut close = |start: LineStart, end: u32| {
                    if start.offset < end {
                        each(LineRange {
                            start: start.offset,
                            end,
                            line: start.line,
                        });
                    }
                };
                if self.format != LineTable::Missing {
                    self.each_lnotab_start(|start| {
                        if let Some(last) = pending.replace(start) {
                            close(last, start.offset);
                        }
                    })?;
                }
                if let Some(last) = pending {
                    close(last, code_len);
                }
                Ok(())
            }
        }
    }

    /// 3.10's ranges: (length, line delta) pairs, a delta of -128 for code without a line; empty
    /// ranges are skipped, their deltas kept.
    fn each_range(&self, mut each: impl FnMut(LineRange)) -> Result<(), Error> {
        let pairs = self.bytes.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(self.fault(self.bytes.len() - 1));
        }
        let (mut line, mut end) = (self.first_line, 0u32);
        for pair in pairs {
            // proven: chunks of exactly 2
            let (length, delta) = (u32::from(pair[0]), pair[1] as i8);
            let start = end;
            end = end.saturating_add(length);
            let this = if delta == -128 {
                None
            } else {
                line = line.saturating_add(i64::from(delta));
                Some(line)
            };
            if start != end {
                each(LineRange {
                    start,
                    end,
                    line: this,
                });
            }
        }
        Ok(())
    }

    /// `co_positions()`: the position of each code unit of the code (3.11+; empty before). A table
    /// may claim more units than `co_code` holds (`co_positions()` goes on through them); their
    /// positions are not given, so the positions cost the code's length, not the table's claim.
    pub fn positions(&self) -> Result<Vec<Position>, Error> {
        let mut out = Vec::new();
        self.each_position(|position| out.push(position))?;
        Ok(out)
    }

    /// Calls `each` with every position [`Table::positions`] gives, in order, keeping none.
    pub fn each_position(&self, mut each: impl FnMut(Position)) -> Result<(), Error> {
        if !matches!(self.format, LineTable::Locations | LineTable::PyPyPositions) {
            return Ok(());
        }
        let units = self.code_len / 2;
        self.each_entry(|range, position| {
            let first = (range.start / 2).min(units);
            let last = (range.end / 2).min(units);
            (first..last).for_each(|_| each(position));
        })
    }

    /// Where a location table's entries end (the code they cover), their layout checked as
    /// [`Table::each_entry`] checks it, nothing decoded: what `pyc check --deep` asks of the table.
    pub fn covered(&self) -> Result<u32, Error> {
        if self.format == LineTable::PyPyPositions {
            let mut end = 0;
            self.each_pypy_entry(|range, _| end = range.end)?;
            return Ok(end);
        }
        let (mut at, mut end) = (0, 0u32);
        while at < self.bytes.len() {
            let (entry, next) = self.entry_at(at)?;
            end = end.saturating_add(entry.units * 2);
            at = next;
        }
        Ok(end)
    }

    /// The entry of a location table at `at` and where the next begins, its layout checked: a first
    /// byte with the high bit set, and the payload its code asks for whole (a varint at most 10
    /// bytes). The next entry's first byte is checked as it is read, at the same offset.
    #[inline(always)]
    fn entry_at(&self, at: usize) -> Result<(Entry<'_>, usize), Error> {
        let bytes = self.bytes;
        let first = match bytes.get(at) {
            Some(&first) if first & 0x80 != 0 => first,
            _ => return Err(self.fault(at)),
        };
        let code = (first >> 3) & 15;
        let from = at + 1;
        let next = match PAYLOAD[usize::from(code)] {
            VARINTS => {
                let count = if code == 14 { 4 } else { 1 };
                // Most varints are one byte: four of them at once when they are.
                let four = bytes.get(from..from + 4).filter(|_| count == 4);
                if four.is_some_and(|four| four.iter().all(|&b| b & 64 == 0)) {
                    from + 4
                } else {
                    let mut next = from;
                    for _ in 0..count {
                        next = skip_varint(bytes, next).map_err(|at| self.fault(at))?;
                    }
                    next
                }
            }
            fixed if from + usize::from(fixed) <= bytes.len() => from + usize::from(fixed),
            _ => return Err(self.fault(bytes.len())),
        };
        let entry = Entry {
            code,
            units: u32::from(first & 7) + 1,
            payload: bytes.get(from..next).unwrap_or_default(),
        };
        Ok((entry, next))
    }

    /// Calls `each` with every entry of a location table, in order.
    fn each_entry(&self, mut each: impl FnMut(LineRange, Position)) -> Result<(), Error> {
        if self.format == LineTable::PyPyPositions {
            return self.each_pypy_entry(each);
        }
        let (mut at, mut line, mut end) = (0, self.first_line, 0u32);
        while at < self.bytes.len() {
            let (entry, next) = self.entry_at(at)?;
            // The next entry starts at a byte with the high bit set (found before this one is given).
            if self.bytes.get(next).is_some_and(|&b| b & 0x80 == 0) {
                return Err(self.fault(next));
            }
            let position = entry.position(&mut line);
            let start = end;
            end = end.saturating_add(entry.units * 2);
            let range = LineRange {
                start,
                end,
                line: position.line,
            };
            each(range, position);
            at = next;
        }
        Ok(())
    }
}

/// A location-table entry's payload by its code: bytes of a fixed size, or [`VARINTS`].
const PAYLOAD: [u8; 16] = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, VARINTS, VARINTS, 0];

/// The mark of codes 13 (one signed varint) and 14 (four varints) in [`PAYLOAD`].
const VARINTS: u8 = u8::MAX;

/// Where the varint at `at` ends, or where reading it fails: [`Bytes::varint`]'s bounds, nothing
/// decoded.
#[inline(always)]
fn skip_varint(bytes: &[u8], mut at: usize) -> Result<usize, usize> {
    for read in 1..=11 {
        let byte = *bytes.get(at).ok_or(at)?;
        at += 1;
        if read == 11 {
            return Err(at);
        }
        if byte & 64 == 0 {
            return Ok(at);
        }
    }
    Err(at)
}

/// One entry of a location table, its layout checked: its code, the code units it covers, and the
/// bytes after its first.
struct Entry<'a> {
    code: u8,
    units: u32,
    payload: &'a [u8],
}

impl Entry<'_> {
    /// The entry's position, from the previous entry's `line`, which it moves on.
    fn position(&self, line: &mut i64) -> Position {
        let mut reader = Bytes {
            bytes: self.payload,
            at: 0,
        };
        // The layout is checked: every read below finds its bytes.
        let (code, varint) = (self.code, |r: &mut Bytes<'_>| r.varint().unwrap_or(0));
        match code {
            15 => Position::default(),
            14 => {
                *line = line.saturating_add(reader.signed_varint().unwrap_or(0));
                let end_line = line.saturating_add(varint(&mut reader));
                let column = varint(&mut reader) - 1;
                let end_column = varint(&mut reader) - 1;
                Position {
                    line: Some(*line),
                    end_line: Some(end_line),
                    column: (column >= 0).then_some(column),
                    end_column: (end_column >= 0).then_some(end_column),
                }
            }
            13 => {
                *line = line.saturating_add(reader.signed_varint().unwrap_or(0));
                Position {
                    line: Some(*line),
                    end_line: Some(*line),
                    ..Position::default()
                }
            }
            10..=12 => {
                *line = line.saturating_add(i64::from(code - 10));
                let column = reader.byte().unwrap_or(0);
                let end_column = reader.byte().unwrap_or(0);
                Position {
                    line: Some(*line),
                    end_line: Some(*line),
                    column: Some(i64::from(column)),
                    end_column: Some(i64::from(end_column)),
                }
            }
            _ => {
                let second = reader.byte().unwrap_or(0);
                let column = i64::from(code) << 3 | i64::from(second >> 4);
                Position {
                    line: Some(*line),
                    end_line: Some(*line),
                    column: Some(column),
                    end_column: Some(column + i64::from(second & 15)),
                }
            }
        }
    }
}

impl Table<'_> {
    /// PyPy 3.10's entries, one a code unit (`pypy/interpreter/location.py`).
    fn each_pypy_entry(&self, mut each: impl FnMut(LineRange, Position)) -> Result<(), Error> {
        let mut reader = Bytes {
            bytes: self.bytes,
            at: 0,
        };
        let mut end = 0u32;
        while reader.at < self.bytes.len() {
            let cut = |reader: &Bytes<'_>| self.fault(reader.at);
            let line = reader.leb128().ok_or_else(|| cut(&reader))?;
            let mut position = Position::default();
            if line != 0 {
                let line = self.first_line.saturating_add(line - 1);
                position.line = Some(line);
                let column = reader.byte().ok_or_else(|| cut(&reader))?;
                if column != 0 {
                    let end_column = reader.byte().ok_or_else(|| cut(&reader))?;
                    let end_line = reader.byte().ok_or_else(|| cut(&reader))?;
                    position.column = Some(i64::from(column) - 1);
                    position.end_column = (end_column != 0).then(|| i64::from(end_column) - 1);
                    position.end_line = Some(line.saturating_add(i64::from(end_line)));
                }
            }
            let start = end;
            end = end.saturating_add(2);
            let range = LineRange {
                start,
                end,
                line: position.line,
            };
            each(range, position);
        }
        Ok(())
    }
}

/// A cursor over a table's bytes.
struct Bytes<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    /// Six bits a byte, least significant first, while bit 6 says more follow.
    fn varint(&mut self) -> Option<i64> {
        let mut byte = self.byte()?;
        let mut value = i64::from(byte & 63);
        let mut shift = 0;
        while byte & 64 != 0 {
            byte = self.byte()?;
            shift += 6;
            if shift > 56 {
                return None;
            }
            value |= i64::from(byte & 63) << shift;
        }
        Some(value)
    }

    /// Seven bits a byte, least significant first, while bit 7 says more follow (unsigned LEB128).
    fn leb128(&mut self) -> Option<i64> {
        let mut value = 0i64;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            value |= i64::from(byte & 127) << shift;
            if byte & 128 == 0 {
                return Some(value);
            }
            shift += 7;
            if shift > 56 {
                return None;
            }
        }
    }

    /// A [`Bytes::varint`] whose low bit is the sign.
    fn signed_varint(&mut self) -> Option<i64> {
        let value = self.varint()?;
        Some(if value & 1 != 0 {
            -(value >> 1)
        } else {
            value >> 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3.11 location table at absolute offset 100, for code of `code_len` bytes, first line 10.
    fn table(bytes: &[u8], code_len: u32) -> Table<'_> {
        Table {
            format: LineTable::Locations,
            field: "co_linetable",
            python: Python::cpython(3, 11),
            bytes,
            base: 100,
            first_line: 10,
            code_len,
        }
    }

    /// Where checking the table's coverage fails, and where listing its positions fails.
    fn faults(bytes: &[u8]) -> (Option<u64>, Option<u64>) {
        let t = table(bytes, 64);
        (
            t.covered().err().map(|e| e.offset()),
            t.positions().err().map(|e| e.offset()),
        )
    }

    #[test]
    fn an_entry_covers_its_length_in_code_units_and_gives_its_columns() {
        // Code 10 (one line, columns in the next two bytes), length 2: line 10, columns 3..7.
        let t = table(&[0x80 | 10 << 3 | 1, 3, 7], 4);
        assert_eq!(t.covered().ok(), Some(4));
        let position = Position {
            line: Some(10),
            end_line: Some(10),
            column: Some(3),
            end_column: Some(7),
        };
        assert_eq!(t.positions().ok(), Some(alloc::vec![position; 2]));
    }

    #[test]
    fn a_long_entry_reads_four_varints_of_six_bits() {
        // Code 14, length 1: line +2 (signed 4), end line +1, column 65 - 1 (two bytes), end 0 - 1.
        let t = table(&[0x80 | 14 << 3, 4, 1, 0x40 | 1, 1, 0], 2);
        let position = Position {
            line: Some(12),
            end_line: Some(13),
            column: Some(64),
            end_column: None,
        };
        assert_eq!(t.positions().ok(), Some(alloc::vec![position]));
        assert_eq!(t.covered().ok(), Some(2));
    }

    #[test]
    fn a_table_cut_inside_a_payload_fails_where_the_bytes_end() {
        assert_eq!(faults(&[0x80 | 14 << 3]), (Some(101), Some(101)));
        assert_eq!(
            faults(&[0x80 | 14 << 3, 0, 0, 0x40]),
            (Some(104), Some(104))
        );
        assert_eq!(faults(&[0x80 | 10 << 3, 1]), (Some(102), Some(102)));
        assert_eq!(faults(&[0x80, 1, 0x80]), (Some(103), Some(103)));
    }

    #[test]
    fn a_varint_of_more_than_ten_bytes_fails_after_its_eleventh() {
        let mut bytes = alloc::vec![0x80 | 13 << 3];
        bytes.extend([0x40; 10]);
        bytes.push(0);
        assert_eq!(faults(&bytes), (Some(112), Some(112)));
        // Ten bytes are a varint.
        bytes.remove(1);
        assert_eq!(faults(&bytes), (None, None));
    }

    #[test]
    fn an_entry_must_begin_with_the_high_bit_set() {
        assert_eq!(faults(&[0x05]), (Some(100), Some(100)));
        // A payload longer than its code asks for: the extra byte is read as the next entry's first.
        assert_eq!(faults(&[0x80, 1, 2]), (Some(102), Some(102)));
    }
}
