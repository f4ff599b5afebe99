"""What this interpreter says a pyc's bytecode is: its instructions, line numbers, positions and
exception tables, as JSON. Runs unchanged on CPython 2.7 and 3.6+ and PyPy (standard library only).

  disasm.py [--skip N] PYC...
      One JSON object a line per file, in file order:
        {"path": P, "error": null or "Type: message", "code": [CODE, ...]}
      CODE, for each code object in pre-order (the module, then each code object of co_consts in
      co_consts order, depth first):
        {"name": co_name, "qualname": co_qualname (3.11+) or null, "firstlineno": co_firstlineno,
         "instructions": [{"offset", "opname", "opcode", "arg", "argval", "argkind", "argrepr"}, ...],
         "line_starts": [[offset, line or null], ...]      dis.findlinestarts (xdis_disasm.py
                                                           --fix: null where it cannot tell)
         "lines": [[start, end, line or null], ...]        co_lines(), null where there is none
         "positions": [[line, end_line, col, end_col], ...] co_positions() (nulls kept), or null
         "exception_table": [{"start", "end", "target", "depth", "lasti"}, ...]  3.11+, or null}
      Instructions come from dis.get_instructions (no cache entries); on 2.7 from a walk of co_code done
      as 2.7's dis.disassemble does it. "arg" has EXTENDED_ARG folded in (null without an argument).
      "argkind" is "const", "name", "local", "free", "jump", "compare" (from this interpreter's opcode
      lists hasconst, hasname, haslocal, hasfree, hasjrel/hasjabs/hasjump, hascompare) or null, and
      "argval" is then: oracle.py's describe() of the constant ({"type": "code", "name": N} for a code
      object); the name (a list of two for 3.13's two-local instructions); the jump target offset; the
      comparison symbol. Otherwise argval is dis's argval if an int, str or None, else its repr (a
      code object, whatever the kind, is {"type": "code", "name": N}). "argrepr" is dis's (null on
      2.7).
      The header is N bytes (--skip N) or this interpreter's size with its magic number checked (2.7
      also takes its -U magic, magic + 1); a file it cannot load has an "error" and no code.
  disasm.py --selfcheck [--skip N] PYC...
      Compares the instruction list with the text dis.dis prints for each code object (offsets,
      opnames, args, the "(...)" annotation where it follows from argval, the line number column and,
      3.11+, the ExceptionTable lines), prints a JSON summary and exits 1 on any disagreement.
  disasm.py --compare DIR
      Compares DIR/expect.jsonl (this script's output) with DIR/actual.jsonl, pycmarshal's view of the
      same files, a line each: {"path": P, "document": its JSON document, "dis": its `pyc dis --json`}.
      Prints a summary and the first problems; exits 1 on any difference.
"""
from __future__ import print_function

import binascii
import dis
import io
import json
import marshal
import opcode
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import CodeType, PY2, describe, expand, header_size, magic_word, normalize  # noqa: E402

PLAIN = (int, long, str, unicode) if PY2 else (int, str)  # noqa: F821
KIND_LISTS = [("const", "hasconst"), ("name", "hasname"), ("local", "haslocal"), ("free", "hasfree"),
              ("jump", "hasjrel"), ("jump", "hasjabs"), ("jump", "hasjump"), ("compare", "hascompare")]


def argkinds(module):
    """{opcode: kind} from an opcode module's has* lists."""
    kinds = {}
    for kind, name in KIND_LISTS:
        for op in getattr(module, name, ()):
            kinds.setdefault(op, kind)
    return kinds


def text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def json_argval(kind, argval, describe_const=describe, is_code=lambda v: isinstance(v, CodeType)):
    if is_code(argval):
        return {"type": "code", "name": text(argval.co_name)}
    if kind == "const":
        return describe_const(argval)
    if kind in ("name", "local", "free") and isinstance(argval, tuple):
        return [text(v) for v in argval]
    if kind is not None or argval is None or isinstance(argval, PLAIN):
        return text(argval)
    return repr(argval)


def code_record(code, instructions, kinds, line_starts, lines, positions, table, **options):
    """The CODE object of the JSON; instructions are (offset, opname, opcode, arg, argval[, argrepr])
    tuples."""
    return {
        "name": text(code.co_name),
        "qualname": text(getattr(code, "co_qualname", None)),
        "firstlineno": getattr(code, "co_firstlineno", None),
        "instructions": [{"offset": i[0], "opname": i[1], "opcode": i[2], "arg": i[3],
                          "argval": json_argval(kinds.get(i[2]), i[4], **options),
                          "argkind": kinds.get(i[2]), "argrepr": i[5] if len(i) > 5 else None}
                         for i in instructions],
        "line_starts": None if line_starts is None else [[offset, line] for offset, line in line_starts],
        "lines": None if lines is None else [list(entry) for entry in lines],
        "positions": None if positions is None else [list(entry) for entry in positions],
        "exception_table": None if table is None else [
            {"start": e.start, "end": e.end, "target": e.target, "depth": e.depth, "lasti": e.lasti}
            for e in table],
    }


def walk(code, is_code=lambda v: isinstance(v, CodeType)):
    """The code objects under CODE, in pre-order."""
    yield code
    for const in code.co_consts:
        if is_code(const):
            for inner in walk(const, is_code):
                yield inner


KINDS = argkinds(opcode)


def argval_27(code, op, arg, next_offset):
    """What 2.7's dis.disassemble shows for an argument (get_instructions' argval in 3.x)."""
    kind = KINDS.get(op)
    if kind == "const":
        return code.co_consts[arg]
    if kind == "name":
        return code.co_names[arg]
    if kind == "local":
        return code.co_varnames[arg]
    if kind == "free":
        return (code.co_cellvars + code.co_freevars)[arg]
    if kind == "compare":
        return dis.cmp_op[arg]
    if kind == "jump" and op in dis.hasjrel:
        return next_offset + arg
    return arg


def instructions_27(code):
    """2.7's dis.disassemble, as data: 1 or 3 bytes an instruction, EXTENDED_ARG folded as it does."""
    co, out, i, extended = code.co_code, [], 0, 0
    while i < len(co):
        op, start = ord(co[i]), i
        i, arg, argval = i + 1, None, None
        if op >= dis.HAVE_ARGUMENT:
            arg = ord(co[i]) + ord(co[i + 1]) * 256 + extended
            i, extended = i + 2, 0
            if op == dis.EXTENDED_ARG:
                extended = arg * 65536
            argval = argval_27(code, op, arg, i)
        out.append((start, dis.opname[op], op, arg, argval))
    return out


# 3.11's dis resolves only LOAD_CONST's constant: KW_NAMES (in hasconst) gets this sentinel.
UNKNOWN = getattr(dis, "UNKNOWN", object())


def instructions(code):
    if not hasattr(dis, "get_instructions"):
        return instructions_27(code)
    return [(i.offset, i.opname, i.opcode, i.arg, i.argval, i.argrepr)
            for i in dis.get_instructions(code)]


def resolved(code, instructions):
    """The instructions with the constants dis left as UNKNOWN looked up in co_consts."""
    return [i[:4] + (code.co_consts[i[3]] if i[4] is UNKNOWN else i[4],) + i[5:] for i in instructions]


def load(path, skip):
    with open(path, "rb") as f:
        data = f.read()
    if skip is None:
        magic = bytearray(magic_word())
        accepted = [bytes(magic)]
        if PY2:
            accepted.append(bytes(bytearray([(magic[0] + 1) & 0xff]) + magic_word()[1:]))
        if data[:4] not in accepted:
            raise ValueError("magic %r is not this interpreter's %r" % (data[:4], bytes(magic)))
        skip = header_size()
    code = marshal.loads(data[skip:])
    if not isinstance(code, CodeType):
        raise ValueError("the body is a %s, not a code object" % type(code).__name__)
    return code


def describe_code(code):
    table = dis._parse_exception_table(code) if hasattr(dis, "_parse_exception_table") else None
    return code_record(code, resolved(code, instructions(code)), KINDS, dis.findlinestarts(code),
                       code.co_lines() if hasattr(code, "co_lines") else None,
                       code.co_positions() if hasattr(code, "co_positions") else None, table)


# --- the self-check against dis.dis's text ---------------------------------------------------------

LINE = re.compile(r"^\s*(?:(\d+|--)\s+)?(?:-->\s+)?(?:>>\s+)?(?:L(\d+):\s+)?(\d+)\s+(\S+)"
                  r"(?:\s+(\d+)L?(?:\s+\((.*)\))?)?\s*$")
TABLE = re.compile(r"^\s+L?(\d+) to L?(\d+) -> L?(\d+) \[(\d+)\]( lasti)?$")


def dis_text(code):
    if PY2:
        import StringIO
        out, sys.stdout = sys.stdout, StringIO.StringIO()
        try:
            dis.dis(code)
            return sys.stdout.getvalue()
        finally:
            sys.stdout = out
    out = io.StringIO()
    options = {"file": out}
    if sys.version_info >= (3, 7):
        options["depth"] = 0
    if sys.version_info >= (3, 13):
        options["show_offsets"] = True
    dis.dis(code, **options)
    return out.getvalue()


def expected_annotation(kind, op, argval, label):
    """What dis prints in "(...)" for an argument, or True where that is more than argval (3.x)."""
    if kind == "const":
        return None if argval is UNKNOWN else repr(argval)
    if kind == "jump":
        if sys.version_info < (3, 10) and op in dis.hasjabs:
            return None  # no annotation for absolute jumps before 3.10
        return "to %s" % (argval if label is None else label)
    if PY2:
        return argval if kind is not None else None
    return True


def check_code(code, problems):
    """Compares one code object's instructions with dis.dis's text; returns the instructions compared."""
    mine = [i[:5] for i in instructions(code)]
    rows, table, labels = [], [], {}
    for line in dis_text(code).splitlines():
        m = TABLE.match(line)
        if m:
            table.append(m.groups())
            continue
        m = LINE.match(line)
        if m:
            rows.append(m.groups())
            if m.group(2):
                labels[m.group(2)] = int(m.group(3))
    starts = dict(dis.findlinestarts(code))
    where = "%s:%s" % (text(code.co_filename), text(code.co_name))
    if len(rows) != len(mine):
        problems.append("%s: %d instructions, dis prints %d" % (where, len(mine), len(rows)))
        return len(mine)
    label_of = dict((offset, "L" + name) for name, offset in labels.items())
    for (offset, name, op, arg, argval), (line, _, t_offset, t_name, t_arg, note) in zip(mine, rows):
        kind = KINDS.get(op)
        got = (int(t_offset), t_name, None if t_arg is None else int(t_arg))
        ok = got == (offset, name, arg)
        if ok and arg is not None:
            label = label_of.get(argval) if kind == "jump" else None
            want = expected_annotation(kind, op, argval, label)
            if want is True:  # 3.x: dis may add to names, comparisons ("NULL + x", "bool(<)")
                names = [str(v) for v in (argval if isinstance(argval, tuple) else (argval,))]
                if kind is not None and names == [""]:
                    ok = note is None  # an empty name: nothing printed
                elif kind is not None:
                    ok = note is not None and all(name in note for name in names)
            else:
                ok = note == want
        if ok and (any(row[0] for row in rows) or any(starts.values())):  # 3.13 omits a column of 0s
            want = None if offset not in starts else "--" if starts[offset] is None else str(starts[offset])
            ok = line == want
        if not ok:
            problems.append("%s@%d: mine %r, dis prints %r" % (where, offset, (offset, name, arg, argval),
                                                               (line, t_offset, t_name, t_arg, note)))
    if hasattr(dis, "_parse_exception_table"):
        # 3.11 and 3.12 print offsets, the end inclusive; 3.13 labels, the end exclusive (and at the
        # end of the code a label no instruction line shows)
        if sys.version_info >= (3, 13):
            resolve, last = (lambda v: labels.get(v, len(code.co_code))), 0
        else:
            resolve, last = int, 2
        got = [(resolve(s), resolve(e) + last, resolve(t), int(d), bool(l)) for s, e, t, d, l in table]
        want = [tuple(e) for e in dis._parse_exception_table(code)]
        if got != want:
            problems.append("%s: exception table %r, dis prints %r" % (where, want, got))
    return len(mine)


def selfcheck(paths, skip):
    files = codes = count = failed = 0
    problems = []
    for path in paths:
        try:
            code = load(path, skip)
        except Exception:
            failed += 1
            continue
        files += 1
        for inner in walk(code):
            codes += 1
            try:
                count += check_code(inner, problems)
            except Exception as error:  # dis itself failing on it
                problems.append("%s:%s: %s: %s" % (path, text(inner.co_name), type(error).__name__, error))
    for problem in problems[:int(os.environ.get("DISASM_PROBLEMS", "20"))]:
        print(problem, file=sys.stderr)
    print(json.dumps({"python": sys.version.split()[0], "files": files, "unloadable": failed,
                      "code_objects": codes, "instructions": count, "disagreements": len(problems)},
                     sort_keys=True))
    return 1 if problems else 0


# --- the comparison with pycmarshal ----------------------------------------------------------------

# pycmarshal names two kinds dis leaves without one (argval the number, argrepr the symbol).
SYMBOL_KINDS = ("binary-op", "intrinsic")


def placed(value, code_node):
    """pycmarshal's argval with the values it gives by place ({"table", "index"}: too long to repeat
    at each instruction) looked up in the code object's expanded fields."""
    if isinstance(value, list):
        return [placed(v, code_node) for v in value]
    if isinstance(value, dict) and "table" in value:
        return code_node["fields"][value["table"]]["items"][value["index"]]
    return value


def name_text(node):
    """A name as pycmarshal's argval spells it: a str's text, a Python 2 byte string's UTF-8."""
    if isinstance(node, list):
        return [name_text(n) for n in node]
    if isinstance(node, dict) and node.get("type") == "bytes":
        return text(binascii.unhexlify(node["hex"]))
    if isinstance(node, dict):
        return node.get("value")
    return node


def code_nodes(node):
    """The code objects of an expanded document, in pre-order."""
    if isinstance(node, dict) and node.get("type") == "code":
        yield node
        for item in node["fields"].get("co_consts", {}).get("items", []):
            for inner in code_nodes(item):
                yield inner


def compare_instruction(want, got, consts, code_node):
    """The first difference between dis's instruction and pycmarshal's, or None."""
    for key in ("offset", "opname", "opcode", "arg"):
        if want[key] != got[key]:
            return "%s %r, dis says %r" % (key, got[key], want[key])
    kind = got["argkind"]
    if kind in SYMBOL_KINDS:
        if want["argkind"] is not None or want["argval"] != got["arg"]:
            return "a %s argument, dis says %s %r" % (kind, want["argkind"], want["argval"])
        if want["argrepr"] is not None and want["argrepr"] != got["argval"]:
            return "%s %r, dis shows %r" % (kind, got["argval"], want["argrepr"])
        return None
    if want["argkind"] != kind:
        return "argument kind %s, dis says %s" % (kind, want["argkind"])
    mine, theirs = got["argval"], want["argval"]
    given = placed(mine, code_node)
    if kind == "const":
        mine, theirs = normalize(given if given is not mine else consts(mine)), normalize(theirs)
    elif given is not mine:
        mine = name_text(given)
    elif kind is None and not isinstance(theirs, int):
        # dis shows some numbers as what they stand for (FORMAT_VALUE's "(None, False)"): the
        # number itself was compared above
        return None
    if mine != theirs:
        return "argval %s, dis says %s" % (json.dumps(mine)[:200], json.dumps(theirs)[:200])
    return None


def compare_code(want, got, consts, code_node):
    """The differences between one code object as dis and pycmarshal see it, at most one per table."""
    problems = []
    for key in ("name", "qualname", "firstlineno"):
        if want[key] != got[key]:
            problems.append("%s %r, the code object says %r" % (key, got[key], want[key]))
    if len(want["instructions"]) != len(got["instructions"]):
        problems.append("%d instructions, dis lists %d" % (len(got["instructions"]),
                                                             len(want["instructions"])))
    for w, g in zip(want["instructions"], got["instructions"]):
        problem = compare_instruction(w, g, consts, code_node)
        if problem:
            problems.append("@%d %s: %s" % (w["offset"], w["opname"], problem))
            break
    for key in ("line_starts", "lines", "positions", "exception_table"):
        # where the interpreter has no such table (lines before 3.10, positions and exception tables
        # before 3.11), there is nothing to compare: pycmarshal's derived form is its own
        if want[key] is not None and want[key] != got[key]:
            problems.append("%s differ: %s" % (key, first_list_difference(want[key], got[key])))
    return problems


def first_list_difference(want, got):
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            return "[%d] is %s, the interpreter says %s" % (i, json.dumps(g), json.dumps(w))
    return "%d entries, the interpreter has %d" % (len(got or []), len(want))


def want_implementation(dis_json):
    """The opcode-set name prefix of the file's header: "cpython-" or "pypy-"."""
    header = dis_json["header"] or {}
    return (header.get("implementation") or "").lower() + "-"


def compare(directory):
    def read(name):
        with io.open(os.path.join(directory, name), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    expected, actual = read("expect.jsonl"), read("actual.jsonl")
    counts = dict(files=0, refused=0, code_objects=0, instructions=0, line_starts=0, lines=0,
                  positions=0, handlers=0, undefined_opcodes=0, other_implementation=0)
    problems = []
    if len(expected) != len(actual):
        problems.append("%d results for %d files" % (len(actual), len(expected)))
    for want, got in zip(expected, actual):
        path = want["path"]
        if want["error"] is not None:
            counts["refused"] += 1
            continue
        counts["files"] += 1
        dis_json = got["dis"]
        wanted = want["code"]
        undefined = [(i, n) for i, code in enumerate(wanted) for n, instruction in
                     enumerate(code["instructions"]) if instruction["opname"].startswith("<")]
        if undefined and not (dis_json["opcodes"] or "").startswith(want_implementation(dis_json)):
            # dis names opcodes its version lacks "<N>": pycmarshal read the file as the other
            # implementation that writes its magic (PyPy 3.8 builds write CPython 3.8's), which this
            # interpreter cannot judge (tests/bytecode.rs has xdis judge it)
            counts["other_implementation"] += 1
            continue
        if undefined:
            # dis names an opcode its version lacks "<N>"; pycmarshal stops there, an error
            i, n = undefined[0]
            cut = dict(wanted[i], instructions=wanted[i]["instructions"][:n], line_starts=None,
                       lines=None, positions=None, exception_table=None)
            wanted = wanted[:i] + [cut]
            error = dis_json["error"] or {}
            offset = wanted[i]["instructions"][n - 1]["offset"] if n else 0
            if error.get("kind") != "undefined-opcode":
                problems.append("%s: dis shows an undefined opcode after %s@%d, pycmarshal says %s" % (
                    path, wanted[i]["name"], offset, error.get("message")))
                continue
            counts["undefined_opcodes"] += 1
        elif dis_json["error"] is not None:
            problems.append("%s: pycmarshal failed: %s" % (path, dis_json["error"]["message"]))
            continue
        table, interned = {}, {}
        nodes = list(code_nodes(expand(got["document"]["root"], table, interned, set())))
        consts = lambda node: expand(node, table, interned, set())  # noqa: E731
        if len(wanted) != len(dis_json["code"]):
            problems.append("%s: %d code objects, the interpreter has %d" % (
                path, len(dis_json["code"]), len(wanted)))
            continue
        for w, g, node in zip(wanted, dis_json["code"], nodes):
            counts["code_objects"] += 1
            counts["instructions"] += len(w["instructions"])
            for key, name in (("line_starts", "line_starts"), ("lines", "lines"),
                              ("positions", "positions"), ("exception_table", "handlers")):
                counts[name] += len(w[key] or [])
            problems.extend("%s:%s: %s" % (path, w["qualname"] or w["name"], p)
                            for p in compare_code(w, g, consts, node))
    for problem in problems[:int(os.environ.get("DISASM_PROBLEMS", "20"))]:
        print(problem)
    counts["differences"] = len(problems)
    print(json.dumps(counts, sort_keys=True))
    return 1 if problems else 0


def main(argv):
    if argv[:1] == ["--compare"]:
        return compare(argv[1])
    check = "--selfcheck" in argv
    argv = [a for a in argv if a != "--selfcheck"]
    skip = None
    if argv[:1] == ["--skip"]:
        skip, argv = int(argv[1]), argv[2:]
    if check:
        return selfcheck(argv, skip)
    for path in argv:
        record = {"path": path, "error": None, "code": []}
        try:
            record["code"] = [describe_code(code) for code in walk(load(path, skip))]
        except Exception as error:
            record["error"] = "%s: %s" % (type(error).__name__, error)
            record["code"] = []
        sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
