"""The disassembly (``disassemble``, what ``pyc dis --json`` prints) of this interpreter's compiled
standard library against the interpreter's own ``dis`` and code objects: every code object in
pre-order, its instructions (offset, name, opcode, argument, and what a name, local, free variable,
jump or comparison stands for), its lines as ``co_lines()`` gives them (3.10+) and its exception
table as ``dis._parse_exception_table`` reads it (3.11+)."""

import dis
import marshal
import sys
import types

import pytest

import pycmarshal

# What ``argval`` holds for these argument kinds, as ``dis`` gives it.
RESOLVED = {"name", "local", "free", "jump", "compare"}


def pre_order(code, seen):
    """A code object, then the code objects among its constants, each once."""
    if id(code) in seen:
        return
    seen.add(id(code))
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from pre_order(const, seen)


def differences(ours, theirs):
    """What differs between our listing of one code object and the interpreter's own."""
    found = []
    if ours["name"] != theirs.co_name or ours["firstlineno"] != theirs.co_firstlineno:
        found.append("code %r at line %r, not %r at %r" % (
            ours["name"], ours["firstlineno"], theirs.co_name, theirs.co_firstlineno))
    instructions = list(dis.get_instructions(theirs))
    if len(ours["instructions"]) != len(instructions):
        found.append("%d instructions, not %d" % (len(ours["instructions"]), len(instructions)))
    for mine, real in zip(ours["instructions"], instructions):
        got = (mine["offset"], mine["opname"], mine["opcode"], mine["arg"])
        want = (real.offset, real.opname, real.opcode, real.arg)
        if got != want:
            found.append("instruction %r, not %r" % (got, want))
        elif mine["argkind"] in RESOLVED:
            value = mine["argval"]
            value = tuple(value) if isinstance(value, list) else value
            if value != real.argval:
                found.append("%s at %d stands for %r, not %r" % (
                    real.opname, real.offset, value, real.argval))
    if sys.version_info >= (3, 10):
        lines = [tuple(entry) for entry in ours["lines"]]
        if lines != list(theirs.co_lines()):
            found.append("lines %r, not %r" % (lines[:4], list(theirs.co_lines())[:4]))
    if sys.version_info >= (3, 11):
        table = [(e["start"], e["end"], e["target"], e["depth"], e["lasti"])
                 for e in ours["exception_table"]]
        real = [(e.start, e.end, e.target, e.depth, e.lasti)
                for e in dis._parse_exception_table(theirs)]
        if table != real:
            found.append("exception table %r, not %r" % (table[:3], real[:3]))
    return found


def test_the_stdlib_disassembles_as_this_interpreters_dis_reads_it(stdlib_caches, counts):
    # Every 25th file: the crate's own tests compare each version's instructions in full.
    sample = stdlib_caches[::25]
    failures = []
    codes = instructions = 0
    for path in sample:
        result = pycmarshal.disassemble_file(path)
        with open(path, "rb") as f:
            data = f.read()
        theirs = list(pre_order(marshal.loads(data[result["header"]["size"]:]), set()))
        assert result["error"] is None, "%s: %s" % (path, result["error"])
        assert result["opcodes"] == "cpython-%d.%d" % sys.version_info[:2]
        if len(result["code"]) != len(theirs):
            failures.append("%s: %d code objects, not %d" % (path, len(result["code"]), len(theirs)))
            continue
        for ours, real in zip(result["code"], theirs):
            if ours["shared_code"] is not None:
                continue
            codes += 1
            instructions += len(ours["instructions"])
            name = getattr(real, "co_qualname", real.co_name)
            failures.extend("%s, %s: %s" % (path, name, problem)
                            for problem in differences(ours, real))
    assert not failures, "\n".join(failures[:20])
    counts.append("disassembly of %s: %d files, %d code objects, %d instructions equal to dis"
                  % (sys.version.split()[0], len(sample), codes, instructions))


def test_a_cut_file_disassembles_up_to_the_cut_and_names_it(stdlib_caches):
    path = max(stdlib_caches[:200], key=lambda p: len(open(p, "rb").read()))
    with open(path, "rb") as f:
        data = f.read()
    whole = pycmarshal.disassemble(data)
    cut = pycmarshal.disassemble(data[:len(data) // 2])
    assert isinstance(cut["error"], pycmarshal.Truncated)
    assert isinstance(cut["error"], EOFError)
    assert cut["error"].offset <= len(data) // 2
    assert cut["header"] == whole["header"]
    # The module's bytecode comes first in the file, its tables after: the instructions listed are
    # the whole file's, up to the first that names a table the cut left out.
    listed = cut["code"][0]["instructions"]
    assert listed and listed == whole["code"][0]["instructions"][:len(listed)]


def test_raw_marshal_data_disassembles_with_the_version_named():
    code = compile("x = 1\nif x:\n    y = x + 2\n", "<test>", "exec")
    result = pycmarshal.disassemble(marshal.dumps(code), header=False,
                                    python="%d.%d" % sys.version_info[:2])
    assert result["header"] is None and result["error"] is None
    names = [i["opname"] for i in result["code"][0]["instructions"]]
    assert names == [i.opname for i in dis.get_instructions(code)]


def test_a_file_that_cannot_be_read_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        pycmarshal.disassemble_file(tmp_path / "missing.pyc")
