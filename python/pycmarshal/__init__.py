"""Read Python's compiled cache files (``.pyc``) and marshal data of every Python version, without
running that Python, and never be fooled by a damaged file.

>>> import pycmarshal
>>> pyc = pycmarshal.load("pkg/__pycache__/m.cpython-311.pyc")   # doctest: +SKIP
>>> pyc.header.python, pyc.code.co_name                            # doctest: +SKIP
('3.11', '<module>')

``load``/``loads`` give a ``Pyc`` (``header`` and ``code``), or the value of raw marshal data;
code objects are ``Code``, with the ``co_*`` attributes their version's Python has; constants are
Python values, shared and cyclic as ``marshal.loads`` makes them. A cut file raises ``Truncated``
(an ``EOFError``), any other fault ``Error`` (a ``ValueError``), with the byte offset and what was
being read. ``check`` reports on cache trees as ``pyc check --json`` does; ``normalize`` rewrites a
file so its bytes depend only on its value; ``infer`` says which Python wrote data without a usable
header. The ``pyc`` command comes with the package.
"""


class Error(ValueError):
    """Data that pycmarshal cannot read: ``kind`` (``"bad-length"``, ``"unknown-magic"``, ...),
    ``offset`` (the absolute byte of the failing read), ``path`` (what was being read, as
    ``"co_consts[3]: str payload"``), ``message`` (the whole sentence) and ``filename`` (the file,
    when the error came from ``load``; else ``None``)."""

    def __init__(self, message, *, kind, offset=None, path=None, filename=None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.offset = offset
        self.path = path
        self.filename = filename

    def __str__(self):
        if self.filename is not None:
            return "%s: %s" % (self.filename, self.message)
        return self.message

    def __reduce__(self):
        fields = {"kind": self.kind, "offset": self.offset, "path": self.path,
                  "filename": self.filename}
        return (_rebuild, (type(self), self.message, fields))


class Truncated(Error, EOFError):
    """The data ends before an object it began (``kind`` ``"truncated"``): a cut file, or a length
    that claims more than the data holds. An ``EOFError`` too, as CPython's ``marshal.loads`` raises
    for a cut file."""


def _rebuild(cls, message, fields):
    return cls(message, **fields)


from ._pycmarshal import Code, Header, Pyc, __version__, check, infer, load, loads, normalize  # noqa: E402

__all__ = ["Code", "Error", "Header", "Pyc", "Truncated", "check", "infer", "load", "loads",
           "normalize"]
