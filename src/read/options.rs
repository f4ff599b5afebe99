//! How to read an input: the options every entry point takes ([`crate::read::parse`] has the entry
//! points themselves).

use crate::base::limits::DEFAULT_MAX_DEPTH;
use crate::format::layout::CodeLayout;
use crate::format::magic::Python;

/// How to read the input.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub(crate) max_depth: u32,
    pub(crate) python: Option<Python>,
    pub(crate) layout: Option<CodeLayout>,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl Options {
    /// CPython's depth limit; the version from the header (or, for raw marshal data, the newest).
    pub const fn new() -> Options {
        Options {
            max_depth: DEFAULT_MAX_DEPTH,
            python: None,
            layout: None,
        }
    }

    /// Nesting deeper than `depth` levels (each object counts, leaves included) is an error. Any value is
    /// safe: the decoder keeps its stack on the heap, bounded by the input. Each level the input reaches
    /// may hold up to 256 bytes of memory while it is open, beside the parse's own table.
    pub const fn max_depth(mut self, depth: u32) -> Options {
        self.max_depth = depth;
        self
    }

    /// Read the file as this version wrote it, whatever its magic says (and even if the magic is
    /// unknown). For raw marshal data, the version whose dialect to read.
    pub const fn python(mut self, python: Python) -> Options {
        self.python = Some(python);
        self
    }

    /// Read code objects with this layout, whatever the version says.
    pub const fn code_layout(mut self, layout: CodeLayout) -> Options {
        self.layout = Some(layout);
        self
    }
}
