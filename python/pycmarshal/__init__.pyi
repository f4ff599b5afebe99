"""Type stubs of pycmarshal: read ``.pyc`` files and marshal data of every Python version."""

import os
from typing import Any, Dict, Iterable, Iterator, List, Literal, Optional, Tuple, Union, overload

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Bytes = Union[bytes, bytearray, memoryview]

class Error(ValueError):
    """Data that pycmarshal cannot read."""

    message: str
    """The whole sentence: ``"truncated at byte 42 while reading co_code: bytes payload (...)"``."""
    kind: str
    """What went wrong: ``"truncated"``, ``"unknown-type-code"``, ``"bad-length"``, ..."""
    offset: Optional[int]
    """The absolute byte offset of the read that failed."""
    path: Optional[str]
    """What was being read: ``"co_consts[3]: str payload"``."""
    filename: Optional[str]
    """The file, when the error came from ``load``."""
    def __init__(
        self,
        message: str,
        *,
        kind: str,
        offset: Optional[int] = ...,
        path: Optional[str] = ...,
        filename: Optional[str] = ...,
    ) -> None: ...

class Truncated(Error, EOFError):
    """The data ends before an object it began (``kind == "truncated"``)."""

class Header:
    """A ``.pyc`` header."""

    magic: int
    """The 16-bit magic number."""
    word: bytes
    """The first four bytes as stored."""
    python: str
    """The language version the body is read as: ``"3.11"``."""
    implementation: str
    """``"CPython"``, ``"PyPy"``, ``"GraalPy"``, ``"RustPython"``, ``"Dropbox"``, ..."""
    size: int
    """The header's size in bytes."""
    known: bool
    """False when the magic is unknown and the version was given (``python=``)."""
    note: Optional[str]
    """Which releases write this magic."""
    flags: Optional[int]
    """The PEP 552 flags (3.7 and later)."""
    invalidation: Literal["timestamp", "checked-hash", "unchecked-hash"]
    mtime: Optional[int]
    """The source's mtime the file was written for (timestamp pycs)."""
    source_size: Optional[int]
    """The source's size, low 32 bits (timestamp pycs of 3.3 and later)."""
    hash: Optional[bytes]
    """The stored source hash (hash-based pycs)."""

class Code:
    """A code object of any Python version, with the ``co_*`` attributes that version's Python has
    (``co_argcount``, ``co_code``, ``co_consts``, ``co_names``, ``co_varnames``, ``co_filename``,
    ``co_name``, ``co_firstlineno``, ``co_lnotab`` or ``co_linetable``, ...), with the values the
    file stores."""

    fields: Dict[str, Any]
    """The marshalled fields in stream order (a new dict each time)."""
    layout: str
    """The layout it was read with: ``"V3_11"``, ``"V2_3"``, ``"GraalPy"``, ..."""
    complete: bool
    """False for a code object a fault cut short (a tolerant load)."""
    co_argcount: int
    co_flags: int
    co_code: bytes
    co_consts: Tuple[Any, ...]
    co_names: Tuple[Any, ...]
    co_varnames: Tuple[Any, ...]
    co_filename: Any
    co_name: Any
    def __getattr__(self, name: str) -> Any: ...

class Pyc:
    """A ``.pyc`` file: its header and its module's code object."""

    header: Optional[Header]
    """``None`` only from a tolerant load whose header could not be read."""
    code: Any
    """The module's ``Code``; from a tolerant load, what was decoded of the top-level object, or
    ``None``."""

@overload
def loads(
    data: _Bytes, *, python: Optional[str] = ..., header: Literal[True] = ..., tolerant: Literal[False] = ...
) -> Pyc: ...
@overload
def loads(
    data: _Bytes, *, python: Optional[str] = ..., header: Literal[False], tolerant: Literal[False] = ...
) -> Any: ...
@overload
def loads(
    data: _Bytes, *, python: Optional[str] = ..., header: bool = ..., tolerant: Literal[True]
) -> Tuple[Any, Optional[Error]]: ...
@overload
def load(
    path: _Path, *, python: Optional[str] = ..., header: Literal[True] = ..., tolerant: Literal[False] = ...
) -> Pyc: ...
@overload
def load(
    path: _Path, *, python: Optional[str] = ..., header: Literal[False], tolerant: Literal[False] = ...
) -> Any: ...
@overload
def load(
    path: _Path, *, python: Optional[str] = ..., header: bool = ..., tolerant: Literal[True]
) -> Tuple[Any, Optional[Error]]: ...
def check(
    paths: Union[_Path, Iterable[_Path], None] = ...,
    *,
    source: bool = ...,
    deep: bool = ...,
    follow: bool = ...,
    pycache_prefix: Optional[_Path] = ...,
) -> Iterator[Dict[str, Any]]:
    """One report per file, as ``pyc check --json`` prints them: ``path``, ``status``, ``python``,
    ``implementation``, ``magic``, ``invalidation``, ``source``, ``message``, ``error``, ``bytes``;
    ``deep=True`` checks the bytecode too, as ``pyc check --deep``."""

def normalize(data: _Bytes, *, header: bool = ..., python: Optional[str] = ...) -> bytes:
    """The data rewritten so its bytes depend only on its value (``pyc normalize``)."""

def infer(data: _Bytes, *, header: bool = ...) -> List[Dict[str, Any]]:
    """The readings that decode the data strictly, most plausible first."""
