"""What xdis says a pyc's bytecode is, in disasm.py's JSON, for the versions no interpreter here runs.

  python3 xdis_disasm.py [--fix] PYC...

Prints one JSON object a line per file, in file order, with disasm.py's schema (see its docstring), but
made by xdis: xdis.load_module reads the file (any version, header included), xdis.disasm.get_opcode
picks the opcode module (from version, implementation and magic, as pydisasm does), xdis.bytecode's
Bytecode decodes the instructions (for GraalPy get_instructions_bytes_graal, as Bytecode_Graal would
if it passed it the code object) and argkind comes from that module's has* lists. line_starts are the
module's findlinestarts (find_linestarts_graal for GraalPy), without duplicates as dis gives them;
lines are co_lines(), positions xdis's parse_positions of the 3.11+ CPython location table (xdis's own
co_positions yields raw table entries, not positions) and exception_table the Bytecode's
exception_entries, each null where xdis has none. A file xdis cannot read or decode gives an "error".
On 3.11+ (CPython) xdis lists the inline CACHE entries as instructions: they are dropped, as
dis.get_instructions drops them.

Constants are described with oracle.py's describe() after turning xdis's values into what that
version's interpreter would have loaded: before 3.0 a plain str (marshal 's', 't', 'R') becomes the
bytes it was and UnicodeForPython3 (marshal 'u') text; LongTypeForPython3 becomes int. A code object
nested in a constant tuple is an xdis Code* object that describe() does not know: that file gets an
"error" (code objects directly in co_consts are fine). Sets keep xdis's (hash) order: compare them as
oracle.py's normalize() does.

xdis 6.3's mistakes that --fix works around (each checked against the interpreters here):
  * a back-reference to object 0 returns the last object instead (PyPy files, whose root code object
    takes no reference slot, get wrong names);
  * co_cellvars and co_freevars are swapped before 3.11 (they are read in the wrong order), so
    LOAD_DEREF and friends name the wrong variable;
  * before 3.0 (and in 3.0 itself) 's'/'t' strings are decoded as UTF-8 dropping invalid bytes, which
    loses bytes of byte-string constants and of co_lnotab; 3.0's 's' becomes str instead of bytes;
  * negative longs (marshal 'l') are read with an unsigned size and fail; a 'u' string with a lone
    surrogate fails to decode;
  * before 3.6 co_lnotab line increments are read as signed (they are unsigned until 3.6); in 3.8 and
    3.9 a line start at the very end of co_code (an lnotab entry past dead code) is kept where dis
    drops it;
  * PyPy 3.10's line table (4 bytes an instruction, whose format no interpreter here can confirm) is
    decoded as CPython 3.10's, giving odd offsets past the code: --fix makes line_starts and lines null;
  * 3.11+ local and free variable names come from a list without the free variables that share a
    local's name (3.12's inlined comprehensions), leaving their index: --fix looks them up in
    co_localsplusnames as the compiler lays it out (locals, other cells, free variables);
  * comparison names are hyphenated ("not-in", "exception-match");
  * parse_positions gives a missing column as -1 (co_positions: None);
  * FORMAT_VALUE (3.6+) and CONVERT_VALUE (3.13+) argval is the raw arg, where dis gives the repr of
    (conversion function, has spec) and of the conversion function;
  * 3.12+ SEND's target leaves out its cache entry; 3.13 WITH_EXCEPT_START gets an argument (dis
    has none for it, opcode 44 not being in hasarg).
And where no interpreter here runs, as the releases' own sources say (see fix_kinds): FOR_LOOP is a
relative jump, 1.0's RESERVE_FAST a constant, COMPARE_OP a comparison before 1.5 too, 3.14's IS_OP
and the *_FAST opcodes before 1.4 in no list; and before 1.5 a line starts at its SET_LINENO
instruction, not after it, once however many SET_LINENO of the line follow (tests/bytecode.rs shows
the 1.5-2.2 compilers' co_lnotab putting every line start there).
--fix leaves GraalPy and RustPython files as xdis reads them (nothing here can check those). Without
--fix the output is xdis's own view, mistakes included.
"""
import contextlib
import io
import json
import os
import sys

import xdis.unmarshal
from xdis import iscode
from xdis.bytecode import Bytecode
from xdis.bytecode_graal import get_instructions_bytes_graal
from xdis.codetype.base import CodeBase
from xdis.codetype.code311 import parse_positions
from xdis.cross_types import LongTypeForPython3, UnicodeForPython3
from xdis.disasm import get_opcode
from xdis.lineoffsets_graal import find_linestarts_graal
from xdis.load import load_module
from xdis.unmarsh_graal import VersionIndependentUnmarshallerGraal
from xdis.unmarsh_rust import VersionIndependentUnmarshallerRust
from xdis.version_info import PythonImplementation

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from disasm import argkinds, code_record, walk  # noqa: E402
from oracle import describe  # noqa: E402

FIX = False


def native(value, version):
    """VALUE as the interpreter of VERSION would have loaded it (see the module docstring)."""
    if isinstance(value, UnicodeForPython3):
        return value.value.decode("utf-8", "surrogatepass")
    if isinstance(value, LongTypeForPython3):
        return int(value)
    if isinstance(value, str) and version < (3, 0):
        return value.encode("latin-1" if FIX else "utf-8")
    if isinstance(value, (tuple, list, set, frozenset)):
        return type(value)(native(v, version) for v in value)
    if isinstance(value, dict):
        return dict((native(k, version), native(v, version)) for k, v in value.items())
    if isinstance(value, slice):
        return slice(*(native(v, version) for v in (value.start, value.stop, value.step)))
    return value


# --- --fix -----------------------------------------------------------------------------------------

def fix_unmarshaller():
    """Patches xdis's unmarshaller where it misreads (see the module docstring)."""
    cls = xdis.unmarshal.VersionIndependentUnmarshaller

    def text(self, data):  # 's' and 't' before 3.0 are bytes: latin-1 keeps every one of them
        return data.decode("latin-1" if self.version_triple < (3, 0) else "utf-8", "surrogatepass")

    def t_string(self, save_ref, bytes_for_s=False):
        data = self.fp.read(self.read_uint32())
        return self.r_ref(data if bytes_for_s or self.version_triple >= (3, 0) else text(self, data),
                          save_ref)

    def t_interned(self, save_ref, bytes_for_s=False):
        value = text(self, self.fp.read(self.read_uint32()))
        self.intern_strings.append(value)
        return self.r_ref(value, save_ref)

    def t_unicode(self, save_ref, bytes_for_s=False):
        data = self.fp.read(self.read_uint32())
        value = UnicodeForPython3(data) if self.version_triple < (3, 0) else data.decode(
            "utf-8", "surrogatepass")
        return self.r_ref(value, save_ref)

    def t_long(self, save_ref, bytes_for_s=False):
        n = self.read_int32()
        value = sum((self.read_int16() & 0xFFFF) << (15 * j) for j in range(abs(n)))
        return self.r_ref(-value if n < 0 else value, save_ref)

    def t_object_reference(self, save_ref=None, bytes_for_s=False):
        return self.intern_objects[self.read_uint32()]

    patches = (t_string, t_interned, t_unicode, t_long, t_object_reference)
    originals = dict((f.__name__, getattr(cls, f.__name__)) for f in patches)
    for f in patches:
        setattr(cls, f.__name__, f)
    for sub in (VersionIndependentUnmarshallerGraal, VersionIndependentUnmarshallerRust):
        for name, original in originals.items():  # unverified there: left as they were
            if name not in vars(sub):
                setattr(sub, name, original)


def lnotab_starts(code):
    """CPython 2.7's dis.findlinestarts: co_lnotab's increments unsigned."""
    table = code.co_lnotab
    table = bytearray(table.encode("latin-1") if isinstance(table, str) else table)
    last, line, offset = None, code.co_firstlineno, 0
    for byte_incr, line_incr in zip(table[0::2], table[1::2]):
        if byte_incr:
            if line != last:
                yield offset, line
                last = line
            offset += byte_incr
        line += line_incr
    if line != last:
        yield offset, line


# The comparisons of 1.0-1.4, spelled as Include/opcode.h's enum cmp_op (dis.py had no cmp_op then).
OLD_CMP_OP = ("<", "<=", "==", "!=", ">", ">=", "in", "not in", "is", "is not", "exception match", "BAD")


def fix_kinds(kinds, opc, version):
    """The argument kinds with xdis's lists corrected where the release's own dis.py (and C code) say
    otherwise: FOR_LOOP is a relative jump (hasjrel in every dis.py that has it, 1.0-2.2), RESERVE_FAST
    a constant (hasconst in 1.0 and 1.1), COMPARE_OP a comparison (its argument indexes cmp_op in
    every version's ceval.c, though dis.py has no hascompare before 1.5); 3.14's IS_OP is in no
    list (xdis puts it under hascompare; 3.14's dis does not), nor LOAD_FAST, STORE_FAST and
    DELETE_FAST before 1.4 (a fast-local slot, named by RESERVE_FAST's map, which xdis looks up in
    co_names instead)."""
    kinds = dict(kinds)
    for name, kind in (("FOR_LOOP", "jump"), ("RESERVE_FAST", "const"), ("COMPARE_OP", "compare")):
        if name in opc.opmap:
            kinds[opc.opmap[name]] = kind
    if version >= (3, 14) and "IS_OP" in opc.opmap:
        kinds.pop(opc.opmap["IS_OP"], None)
    for name in ("LOAD_FAST", "STORE_FAST", "DELETE_FAST"):
        if version < (1, 4) and name in opc.opmap:  # a fast-local slot, not a co_names index
            kinds.pop(opc.opmap[name], None)
    return kinds


def fixed(instruction, kind, version, localsplus, code):
    offset, name, op, arg, argval = instruction
    if name == "FOR_LOOP":
        argval = offset + 3 + arg
    if name == "RESERVE_FAST":
        argval = code.co_consts[arg]
    if name == "COMPARE_OP" and version < (1, 5):
        argval = OLD_CMP_OP[arg]
    if name == "IS_OP" and version >= (3, 14):
        argval = arg
    if kind in ("local", "free") and version >= (3, 11):  # a name xdis left as an index
        if isinstance(argval, int):
            argval = localsplus[arg]
        elif isinstance(argval, tuple) and any(isinstance(v, int) for v in argval):
            argval = (localsplus[arg >> 4], localsplus[arg & 15])
    if kind == "compare":
        argval = argval.replace("-", " ")
    if name == "SEND" and version >= (3, 12):
        argval += 2
    if name == "WITH_EXCEPT_START" and version == (3, 13):
        arg = argval = None
    if name == "FORMAT_VALUE" and version >= (3, 6):  # dis shows the conversion and the spec flag
        argval = repr(((None, str, repr, ascii)[arg & 3], bool(arg & 4)))
    if name == "CONVERT_VALUE":
        argval = repr((None, str, repr, ascii)[arg])
    return offset, name, op, arg, argval


# --- the JSON --------------------------------------------------------------------------------------

def describe_code(code, opc, version, implementation, fix):
    graal = implementation == PythonImplementation.Graal
    native_code = not isinstance(code, CodeBase)
    if graal:  # Bytecode_Graal's __iter__ passes co_code where the decoder wants the code object
        bytecode, decoded = None, get_instructions_bytes_graal(code, opc)
        starts = sorted(find_linestarts_graal(code, opc, dup_lines=False).items())
    else:
        bytecode = Bytecode(code, opc)
        decoded, starts = iter(bytecode), opc.findlinestarts(code)
        if fix and version < (3, 6) and hasattr(code, "co_lnotab") and version >= (1, 5):
            starts = lnotab_starts(code)
        if fix and (3, 8) <= version < (3, 10):  # dis stops at the end of co_code, xdis a step later
            starts = [start for start in starts if start[0] < len(code.co_code)]
    lines = code.co_lines() if hasattr(code, "co_lines") else None
    if fix and opc.is_pypy and version >= (3, 10):  # PyPy's own table, read as CPython 3.10's
        starts = lines = None
    kinds = fix_kinds(argkinds(opc), opc, version) if fix else argkinds(opc)
    caches = version >= (3, 11) and not opc.is_pypy and not graal
    instructions = [(i.offset, i.opname, i.opcode, i.arg, i.argval) for i in decoded
                    if not (caches and i.opname == "CACHE")]
    if fix:
        localsplus = None
        if version >= (3, 11):  # as the compiler lays it out: locals, other cells, free variables
            cells = tuple(c for c in code.co_cellvars if c not in code.co_varnames)
            localsplus = tuple(code.co_varnames) + cells + tuple(code.co_freevars)
        instructions = [fixed(i, kinds.get(i[2]), version, localsplus, code) for i in instructions]
        if version < (1, 5) and starts is not None:
            # xdis starts a line after its SET_LINENO, and again at a SET_LINENO of the same line
            # (a loop's head); findlinestarts starts a line once, where it changes
            at = dict((i[0], i[1]) for i in instructions)
            moved = [(o - 3 if at.get(o - 3) == "SET_LINENO" else o, line) for o, line in starts]
            starts = [s for n, s in enumerate(moved) if n == 0 or moved[n - 1][1] != s[1]]
    if native_code:
        positions = code.co_positions() if hasattr(code, "co_positions") else None
    else:
        cpython = version >= (3, 11) and implementation == PythonImplementation.CPython
        positions = parse_positions(code.co_linetable, code.co_firstlineno) if cpython else None
        if fix and positions is not None:  # a missing column is -1 there, None in co_positions
            positions = [p[:2] + tuple(None if c == -1 else c for c in p[2:]) for p in positions]
    return code_record(code, instructions, kinds, starts, lines, positions,
                       getattr(bytecode, "exception_entries", None),
                       describe_const=lambda v: describe(native(v, version)), is_code=iscode)


def main(argv):
    global FIX
    FIX = "--fix" in argv
    if FIX:
        fix_unmarshaller()
    for path in [a for a in argv if a != "--fix"]:
        record = {"path": path, "error": None, "code": []}
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # xdis prints its tracebacks there
                version, _, magic, code, implementation = load_module(path)[:5]
            opc = get_opcode(version, implementation, None, magic)
            version = tuple(v for v in version if isinstance(v, int))[:2]
            codes = list(walk(code, iscode))
            # --fix is for what CPython and PyPy wrote (the interpreters here could check it)
            fix = FIX and implementation not in (PythonImplementation.Graal,
                                                 PythonImplementation.RustPython)
            if fix and (2, 1) <= version < (3, 11):  # read in the wrong order (once per object)
                for c in dict((id(c), c) for c in codes if isinstance(c, CodeBase)).values():
                    c.co_cellvars, c.co_freevars = c.co_freevars, c.co_cellvars
            record["code"] = [describe_code(c, opc, version, implementation, fix) for c in codes]
        except Exception as error:  # xdis fails in many ways on files it cannot read
            record["error"] = "%s: %s" % (type(error).__name__, error)
            record["code"] = []
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
