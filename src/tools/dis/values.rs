//! The values instructions name, and the names code objects carry, as the disassembly shows them: cut
//! at a cap, and the costly ones (long strings, bytes and integers, code objects) rendered once per
//! file, so that a long constant or name that many instructions or code objects name costs its
//! length once, not once a use. The short ones are rendered each time: keeping them would take more
//! memory than they cost.

use crate::object::{Code, Object, ObjectId, Value};
use crate::tools::{dump, json};
use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt::{self, Write};

/// The most bytes a value takes in the JSON form: past them the JSON gives its place instead
/// (`{"table": "co_consts", "index": 3}`), and a code object's name is cut (with `...`).
pub const JSON_CAP: usize = 1024;
/// The most bytes a value takes in the text's `(...)`, cut with `...` past them.
pub const TEXT_CAP: usize = 60;
/// The most bytes of a name or file name in the text's `Disassembly of` titles.
pub const TITLE_CAP: usize = 60;
/// The most bytes of a code object's name in the JSON form (its `name`, `qualname`, and a code
/// constant's `{"type": "code", "name"}`), cut with `...` past them.
pub const NAME_CAP: usize = 256;
/// Objects whose payload is longer than this are rendered once per file and kept.
const KEPT_PAST: usize = 64;

/// Renders an object into a capped buffer, as a name (`true`) or a constant.
pub type Render = fn(&mut Capped<'_>, Object<'_, '_>, bool) -> fmt::Result;

/// The renderings of one file's objects.
pub struct Values {
    cap: usize,
    render: Render,
    /// The costly ones, by object and whether it is shown as a name: the text, and whether it is
    /// whole.
    kept: BTreeMap<(ObjectId, bool), (String, bool)>,
    /// The last cheap one.
    scratch: (String, bool),
}

impl Values {
    pub fn new(cap: usize, render: Render) -> Values {
        Values {
            cap,
            render,
            kept: BTreeMap::new(),
            scratch: (String::new(), true),
        }
    }

    /// The object's rendering, as a name or a constant, and whether it is whole (not cut at the
    /// cap).
    pub fn render(&mut self, object: Object<'_, '_>, name: bool) -> (&str, bool) {
        let (cap, render) = (self.cap, self.render);
        let make = |text: &mut String| {
            text.clear();
            let mut capped = Capped { text, left: cap };
            render(&mut capped, object, name).is_ok()
        };
        let target = object.resolve();
        let (text, whole) = if target.as_code().is_some() || target.payload().len() > KEPT_PAST {
            self.kept.entry((object.id(), name)).or_insert_with(|| {
                let mut text = String::new();
                let whole = make(&mut text);
                (text, whole)
            })
        } else {
            self.scratch.1 = make(&mut self.scratch.0);
            &mut self.scratch
        };
        (text.as_str(), *whole)
    }

    /// The object's whole rendering, or `None` where it passes the cap.
    pub fn get(&mut self, object: Object<'_, '_>, name: bool) -> Option<&str> {
        match self.render(object, name) {
            (text, true) => Some(text),
            _ => None,
        }
    }
}

/// Where the objects of the tables of a file's code objects stand: each table (by the object it is,
/// however many code objects refer to it) read once per file, when a value it may hold must be given
/// by its place.
#[derive(Default)]
pub struct Places {
    /// Each table read, by its id: its items' ids and the first index of each.
    tables: BTreeMap<ObjectId, BTreeMap<ObjectId, usize>>,
}

impl Places {
    /// The field and index of `code`'s table that holds `object` (the first, where several do).
    pub fn of(
        &mut self,
        code: &Code<'_, '_>,
        object: Object<'_, '_>,
    ) -> Option<(&'static str, usize)> {
        const TABLES: [&str; 6] = [
            "co_consts",
            "co_names",
            "co_varnames",
            "co_localsplusnames",
            "co_cellvars",
            "co_freevars",
        ];
        for table in TABLES {
            let Some(target) = code.get(table).map(Object::resolve) else {
                continue;
            };
            let Some(items) = target.items() else {
                continue;
            };
            let map = self.tables.entry(target.id()).or_insert_with(|| {
                let mut map = BTreeMap::new();
                for (index, &id) in items.ids().iter().enumerate() {
                    map.entry(id).or_insert(index);
                }
                map
            });
            if let Some(&index) = map.get(&object.id()) {
                return Some((table, index));
            }
        }
        None
    }
}

/// A writer that takes at most `left` more bytes, then fails, ending the rendering.
pub struct Capped<'s> {
    text: &'s mut String,
    left: usize,
}

impl Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.left = self.left.checked_sub(s.len()).ok_or(fmt::Error)?;
        self.text.push_str(s);
        Ok(())
    }
}

/// A value in the JSON form: a constant as a NODE (a code object as `{"type": "code", "name"}`), a
/// name as a string.
pub fn render_json(out: &mut Capped<'_>, object: Object<'_, '_>, name: bool) -> fmt::Result {
    match object.resolve().value() {
        Value::Code(code) => {
            out.write_str("{\"type\":\"code\",\"name\":")?;
            match code.get("co_name").and_then(Object::text) {
                Some(text) => json::write_str(out, &cut(&text, NAME_CAP))?,
                None => out.write_str("null")?,
            }
            out.write_char('}')
        }
        _ if name => match object.text() {
            Some(text) => json::write_str(out, &text),
            None => out.write_str("null"),
        },
        _ => json::write_node(out, object),
    }
}

/// A value as the text shows it: a name as it is, a constant as its dump begins, a code object as
/// `<code object NAME>`.
pub fn render_text(out: &mut Capped<'_>, object: Object<'_, '_>, name: bool) -> fmt::Result {
    match object.resolve().value() {
        Value::Code(code) => {
            out.write_str("<code object ")?;
            match code.qualname() {
                Some(name) => write_cut(out, &name)?,
                None => out.write_char('?')?,
            }
            out.write_char('>')
        }
        _ if name => render_name(out, object, true),
        _ => dump::write_object(out, object, dump::Layout::default()),
    }
}

/// A name as its text (`?` for an object that is not one), for titles and the JSON's name fields.
pub fn render_name(out: &mut Capped<'_>, object: Object<'_, '_>, _: bool) -> fmt::Result {
    match object.text() {
        Some(text) => write_cut(out, &text),
        None => out.write_char('?'),
    }
}

/// `text`, or its first `cap` bytes (on a character boundary) and `...`.
pub fn cut(text: &str, cap: usize) -> alloc::borrow::Cow<'_, str> {
    if text.len() <= cap {
        return text.into();
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // proven: `end` is below the length, on a character boundary
    alloc::format!("{}...", &text[..end]).into()
}

/// As much of `text` as the cap takes, on a character boundary; an error when that is not all.
fn write_cut(out: &mut Capped<'_>, text: &str) -> fmt::Result {
    let mut end = text.len().min(out.left);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // proven: `end` is at most the length, on a character boundary
    out.write_str(&text[..end])?;
    if end < text.len() {
        Err(fmt::Error)
    } else {
        Ok(())
    }
}
