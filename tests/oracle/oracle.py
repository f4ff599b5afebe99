"""The Python side of the differential tests: Python describes marshal data, pycmarshal must agree.

Runs on every interpreter the tests use (CPython 2.7 and 3.6+, PyPy), so it sticks to what they share.

  oracle.py values --seed N --count N --out DIR [--versions 0,1,2,3,4] [--sources FILE...]
      Generates random values, dumps each with every marshal version given, and writes
      DIR/inputs.txt (one hex line per case: "<marshal version> <hex>") and DIR/expect.jsonl (the
      description of marshal.loads(data), made here from the loaded value).
  oracle.py describe --out DIR [--skip N] PYC...
      Same files for pyc files: the body after the header (this interpreter's header size, or N bytes),
      and its description; a file this interpreter cannot load is marked "refused" and not compared.
  oracle.py compare DIR
      Reads DIR/expect.jsonl and DIR/actual.jsonl (pycmarshal's JSON documents, same order), expands
      pycmarshal's back-references, compares, prints a summary; exit status 1 on any difference.
  oracle.py info
      Prints this interpreter's facts as JSON (version, implementation, magic, marshal version).
  oracle.py compile --out DIR --count N
      Copies about N files of this interpreter's standard library into DIR/<variant>/ and compiles each
      copy with compileall: every invalidation mode and optimization level it has (and -U on Python 2).

The description is the README's JSON form without references: what the value *is*, as this interpreter
loaded it. Sets compare as multisets.
"""

import binascii
import io
import json
import marshal
import os
import platform
import random
import re
import sys

PY2 = sys.version_info[0] == 2
if PY2:
    text_type = unicode  # noqa: F821
    int_types = (int, long)  # noqa: F821
    chr_ = unichr  # noqa: F821
else:
    text_type = str
    int_types = (int,)
    chr_ = chr
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    sys.setrecursionlimit(10000)

# Longs with more 15-bit digits than this are hexadecimal in the JSON form (see the README): at most
# 4,299 decimal digits, under the 4,300 CPython's str(int) allows.
DECIMAL_DIGIT_LIMIT = 952
CodeType = type(compile("0", "", "eval"))


def hexlify(data):
    return binascii.hexlify(data).decode("ascii")


def int_text(value):
    digits = (abs(value).bit_length() + 14) // 15
    if digits > DECIMAL_DIGIT_LIMIT:
        text = "%x" % abs(value)
        return ("-0x" if value < 0 else "0x") + text
    return str(value).rstrip("L")


def float_text(value):
    if value != value:
        return "nan"
    return repr(value)


def code_fields():
    """The fields this interpreter marshals for a code object, by attribute name, in stream order."""
    v = sys.version_info[:2]
    is_pypy = hasattr(sys, "pypy_version_info")
    if v >= (3, 11) and not is_pypy:
        return ["co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_stacksize", "co_flags",
                "co_code", "co_consts", "co_names", "co_localsplusnames", "co_localspluskinds",
                "co_filename", "co_name", "co_qualname", "co_firstlineno", "co_linetable",
                "co_exceptiontable"]
    if v >= (3, 8):
        table = "co_linetable" if v >= (3, 10) and not is_pypy else "co_lnotab"
        return ["co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize",
                "co_flags", "co_code", "co_consts", "co_names", "co_varnames", "co_freevars",
                "co_cellvars", "co_filename", "co_name", "co_firstlineno", table]
    if v >= (3, 0):
        return ["co_argcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize", "co_flags", "co_code",
                "co_consts", "co_names", "co_varnames", "co_freevars", "co_cellvars", "co_filename",
                "co_name", "co_firstlineno", "co_lnotab"]
    return ["co_argcount", "co_nlocals", "co_stacksize", "co_flags", "co_code", "co_consts", "co_names",
            "co_varnames", "co_freevars", "co_cellvars", "co_filename", "co_name", "co_firstlineno",
            "co_lnotab"]


INT_FIELDS = ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize",
              "co_flags", "co_firstlineno")
CO_FAST_LOCAL, CO_FAST_CELL, CO_FAST_FREE = 0x20, 0x40, 0x80


def localsplus(code):
    """co_localsplusnames and co_localspluskinds (3.11+), rebuilt from the public attributes as the
    compiler lays them out: locals (arguments first), cells that are not locals, then free variables."""
    names, kinds = [], []
    for name in code.co_varnames:
        names.append(name)
        kinds.append(CO_FAST_LOCAL | (CO_FAST_CELL if name in code.co_cellvars else 0))
    for name in code.co_cellvars:
        if name not in code.co_varnames:
            names.append(name)
            kinds.append(CO_FAST_CELL)
    for name in code.co_freevars:
        names.append(name)
        kinds.append(CO_FAST_FREE)
    return tuple(names), bytes(bytearray(kinds))


def describe(value):
    """The JSON form of a loaded value, as a tree (shared objects are described where they stand)."""
    if value is None:
        return {"type": "none"}
    if value is True:
        return {"type": "true"}
    if value is False:
        return {"type": "false"}
    if value is Ellipsis:
        return {"type": "ellipsis"}
    if value is StopIteration:
        return {"type": "stopiteration"}
    if isinstance(value, int_types):
        return {"type": "int", "value": int_text(value)}
    if isinstance(value, float):
        return {"type": "float", "value": float_text(value)}
    if isinstance(value, complex):
        return {"type": "complex", "real": float_text(value.real), "imag": float_text(value.imag)}
    if isinstance(value, text_type):
        return {"type": "str", "value": value}
    if isinstance(value, bytes):
        return {"type": "bytes", "hex": hexlify(value)}
    if isinstance(value, tuple):
        return {"type": "tuple", "items": [describe(v) for v in value]}
    if isinstance(value, list):
        return {"type": "list", "items": [describe(v) for v in value]}
    if isinstance(value, frozenset):
        return {"type": "frozenset", "items": [describe(v) for v in value]}
    if isinstance(value, set):
        return {"type": "set", "items": [describe(v) for v in value]}
    if isinstance(value, dict):
        return {"type": "dict", "items": [[describe(k), describe(v)] for k, v in value.items()]}
    if isinstance(value, slice):
        return {"type": "slice", "start": describe(value.start), "stop": describe(value.stop),
                "step": describe(value.step)}
    if isinstance(value, CodeType):
        fields = {}
        plus = None
        for name in code_fields():
            if name in ("co_localsplusnames", "co_localspluskinds"):
                plus = plus or localsplus(value)
                field = plus[0] if name == "co_localsplusnames" else plus[1]
            elif name == "co_code" and hasattr(value, "_co_code_adaptive"):
                field = value.co_code
            else:
                field = getattr(value, name)
            fields[name] = field if name in INT_FIELDS else describe(field)
        return {"type": "code", "fields": fields}
    raise TypeError("cannot describe %r" % (type(value),))


# --- random values ---------------------------------------------------------------------------------

SPECIAL_FLOATS = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 5e-324, 1e-310,
                  2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1.5, 1e16, 1e15, 1e-5, 1e-4,
                  123456789.125, -2.5]
ODD_CHARS = [0xe9, 0xff, 0x100, 0x20ac, 0x4e2d, 0x1f600, 0x10ffff, 0xd800, 0xdbff, 0xdc00, 0xdfff,
             0x0, 0xa, 0x22, 0x5c, 0x7f, 0x80]


def random_int(rng):
    size = rng.random()
    if size < 0.9:
        bits = rng.choice([0, 1, 5, 8, 15, 16, 30, 31, 32, 33, 45, 60, 62, 63, 64, 65, 100])
    elif size < 0.99:
        bits = rng.choice([1000, 5000])
    else:
        bits = rng.choice([20000, 62000])
    value = rng.getrandbits(bits) if bits else rng.randint(-5, 300)
    if rng.random() < 0.1:
        value = rng.choice([2 ** 31 - 1, -2 ** 31, 2 ** 31, -2 ** 31 - 1, 2 ** 63 - 1, -2 ** 63,
                            2 ** 64, 2 ** 15, 2 ** 30, -1, 0])
    return -value if rng.random() < 0.3 else value


def random_float(rng):
    if rng.random() < 0.4:
        return rng.choice(SPECIAL_FLOATS)
    return rng.uniform(-1, 1) * 10 ** rng.randint(-320, 308)


def random_text(rng):
    n = rng.choice([0, 1, 3, 10, 255, 256, 300])
    if rng.random() < 0.5:
        return "".join(chr_(rng.randint(0x20, 0x7e)) for _ in range(n))
    return "".join(chr_(rng.choice(ODD_CHARS) if rng.random() < 0.5 else rng.randint(0x20, 0x7e))
                   for _ in range(n))


def random_bytes(rng):
    n = rng.choice([0, 1, 4, 255, 256, 1000])
    return bytes(bytearray(rng.getrandbits(8) for _ in range(n)))


def random_hashable(rng, depth, pool):
    pick = rng.random()
    if pick < 0.2:
        return random_int(rng)
    if pick < 0.3:
        return random_float(rng)
    if pick < 0.5:
        return random_text(rng)
    if pick < 0.6:
        return random_bytes(rng)
    if pick < 0.65:
        return complex(random_float(rng), random_float(rng))
    if pick < 0.7:
        return rng.choice([None, True, False, Ellipsis, StopIteration])
    if pick < 0.8 and pool:
        shared = rng.choice(pool)
        try:
            hash(shared)
            return shared
        except TypeError:
            pass
    if depth > 0 and pick < 0.9:
        return tuple(random_hashable(rng, depth - 1, pool) for _ in range(rng.randint(0, 4)))
    if depth > 0:
        return frozenset(random_hashable(rng, depth - 1, pool) for _ in range(rng.randint(0, 4)))
    return random_int(rng)


def random_value(rng, depth, pool, codes):
    pick = rng.random()
    if depth <= 0 or pick < 0.45:
        value = random_hashable(rng, min(depth, 2), pool)
    elif pick < 0.55:
        value = [random_value(rng, depth - 1, pool, codes) for _ in range(rng.randint(0, 5))]
    elif pick < 0.65:
        value = tuple(random_value(rng, depth - 1, pool, codes) for _ in range(rng.randint(0, 5)))
    elif pick < 0.75:
        value = dict((random_hashable(rng, 1, pool), random_value(rng, depth - 1, pool, codes))
                     for _ in range(rng.randint(0, 4)))
    elif pick < 0.82:
        value = set(random_hashable(rng, 1, pool) for _ in range(rng.randint(0, 5)))
    elif pick < 0.87:
        value = frozenset(random_hashable(rng, 1, pool) for _ in range(rng.randint(0, 5)))
    elif pick < 0.92 and pool:
        value = rng.choice(pool)
    elif codes:
        value = rng.choice(codes)
    else:
        value = random_int(rng)
    if rng.random() < 0.3:
        pool.append(value)
    return value


def compile_sources(paths):
    """The modules' code objects, and separately every code object nested in them (functions, classes,
    comprehensions), which random values pick from."""
    modules = []
    for path in paths:
        with open(path, "rb") as f:
            source = f.read()
        modules.append(compile(source, path, "exec"))
    nested = []
    stack = list(modules)
    while stack:
        code = stack.pop()
        for const in code.co_consts:
            if isinstance(const, CodeType):
                nested.append(const)
                stack.append(const)
    return modules, nested


def write_case(inputs, expect, version, data):
    description = json.dumps(describe(marshal.loads(data)), sort_keys=True)
    inputs.write("%d %s\n" % (version, hexlify(data)))
    expect.write(description)
    expect.write("\n")


def cmd_values(args):
    seed, count, out = int(args["--seed"]), int(args["--count"]), args["--out"]
    versions = [int(v) for v in args.get("--versions", "0,1,2,3,4").split(",")]
    modules, codes = compile_sources(args.get("--sources", []))
    rng = random.Random(seed)
    cases = 0
    with open(os.path.join(out, "inputs.txt"), "w") as inputs:
        with open(os.path.join(out, "expect.jsonl"), "w") as expect:
            for _ in range(count):
                pool = []
                value = random_value(rng, rng.randint(0, 5), pool, codes)
                for version in versions:
                    write_case(inputs, expect, version, marshal.dumps(value, version))
                    cases += 1
            for code in modules:
                for version in versions:
                    write_case(inputs, expect, version, marshal.dumps(code, version))
                    cases += 1
    print(cases)


def header_size():
    """The header size of the pycs this interpreter writes (PEP 552 from 3.7, source size from 3.3)."""
    if sys.version_info >= (3, 7):
        return 16
    if sys.version_info >= (3, 3):
        return 12
    return 8


def cmd_describe(args):
    out = args["--out"]
    skip = int(args.get("--skip", header_size()))
    refused = 0
    with open(os.path.join(out, "inputs.txt"), "w") as inputs:
        with open(os.path.join(out, "expect.jsonl"), "w") as expect:
            for path in args["paths"]:
                with open(path, "rb") as f:
                    data = f.read()
                body = data[skip:]
                try:
                    write_case(inputs, expect, -1, body)
                except Exception as error:  # a file of another version this interpreter cannot build
                    refused += 1
                    inputs.write("-1 %s\n" % hexlify(body))
                    expect.write(json.dumps({"refused": "%s: %s" % (type(error).__name__, error)}) + "\n")
    print(json.dumps({"files": len(args["paths"]), "refused": refused}))


# --- comparison ------------------------------------------------------------------------------------

class Cycle(Exception):
    pass


def expand(node, table, interned, building):
    """pycmarshal's NODE with back-references replaced by what they stand for, and the bookkeeping
    members ("ref", "interned") dropped."""
    kind = node.get("type")
    if kind == "ref":
        index = node["index"]
        if index in building:
            raise Cycle()
        return table[index]
    if kind == "stringref":
        return interned[node["index"]]
    out = dict((k, v) for k, v in node.items() if k not in ("ref", "interned", "incomplete"))
    ref = node.get("ref")
    if ref is not None:
        building.add(ref)
    if "items" in out:
        if kind in ("dict", "frozendict"):
            out["items"] = [[expand(k, table, interned, building), expand(v, table, interned, building)]
                            for k, v in out["items"]]
        else:
            out["items"] = [expand(v, table, interned, building) for v in out["items"]]
    for key in ("start", "stop", "step"):
        if key in out:
            out[key] = expand(out[key], table, interned, building)
    if "fields" in out:
        # In stream order, which the JSON keeps and Python 2's dicts do not: a string reference (R)
        # needs the interned string (t) it names expanded first.
        fields = node["fields"]
        if ORDERED_DICTS:
            names = list(fields)
        else:
            names = [k for k in code_fields() if k in fields] + [k for k in fields if k not in code_fields()]
        out["fields"] = dict((k, fields[k] if isinstance(fields[k], int) else
                              expand(fields[k], table, interned, building)) for k in names)
    if ref is not None:
        building.discard(ref)
        table[ref] = out
    if "interned" in node:
        interned[node["interned"]] = out
    return out


ORDERED_DICTS = sys.version_info >= (3, 7)
# Containers whose loaded order is not the stream order: sets, and Python 2's dicts (hash order).
UNORDERED = ("set", "frozenset", "dict") if PY2 else ("set", "frozenset")
# CO_FAST_HIDDEN (3.12+, inlined comprehensions' variables) is set in co_localspluskinds, which Python
# does not show; describe() rebuilds the kinds from the public attributes, so it cannot know that bit.
CO_FAST_HIDDEN = 0x10


# CPython 2.x-3.9 sets CO_NOFREE itself when it builds a code object without free or cell variables,
# whatever the file says; files from other writers (3.0-3.3, PyPy) lack it.
CO_NOFREE = 0x40
NOFREE_COMPUTED = sys.version_info < (3, 10) and not hasattr(sys, "pypy_version_info")


def without_computed_nofree(node):
    """A code node with CO_NOFREE cleared where this interpreter would have set it."""
    fields = node.get("fields", {})
    names = [fields.get(k, {}).get("items", []) for k in ("co_freevars", "co_cellvars")]
    if NOFREE_COMPUTED and isinstance(fields.get("co_flags"), int) and not any(names):
        fields["co_flags"] &= ~CO_NOFREE
    return node


def without_hidden(node):
    """A code node with the CO_FAST_HIDDEN bits of its co_localspluskinds cleared."""
    kinds = node.get("fields", {}).get("co_localspluskinds")
    if isinstance(kinds, dict) and "hex" in kinds:
        raw = bytearray(binascii.unhexlify(kinds["hex"]))
        kinds["hex"] = hexlify(bytes(bytearray(b & ~CO_FAST_HIDDEN for b in raw)))
    return node


def canonical(node):
    """A string that equals another's exactly when the two describe the same value (sets as multisets)."""
    return json.dumps(normalize(node), sort_keys=True)


def normalize(node):
    """The description with unordered containers' items sorted and the hidden-local bits cleared, so
    that two describe the same value exactly when they are equal."""
    if isinstance(node, list):
        return [normalize(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "code":
        node = without_computed_nofree(without_hidden(node))
    out = dict((k, normalize(v)) for k, v in node.items())
    if out.get("type") in UNORDERED:
        out["items"].sort(key=lambda item: json.dumps(item, sort_keys=True))
    return out


def first_difference(want, got, path="root"):
    """Where two descriptions first differ, and what each has there."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in want or key not in got:
                return "%s.%s: want %s, got %s" % (path, key, key in want, key in got)
            if canonical(want[key]) != canonical(got[key]):
                return first_difference(want[key], got[key], "%s.%s" % (path, key))
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            if canonical(w) != canonical(g):
                return first_difference(w, g, "%s[%d]" % (path, i))
    return "%s: want %s, got %s" % (path, canonical(want)[:300], canonical(got)[:300])


def read_lines(path):
    """JSON lines, split on newlines only: the documents may hold U+2028 and other characters that
    str.splitlines() takes for line ends."""
    with io.open(path, encoding="utf-8") as f:
        text = f.read()
    return [json.loads(line) for line in text.split("\n") if line]


def cmd_compare(args):
    directory = args["paths"][0]
    expected = read_lines(os.path.join(directory, "expect.jsonl"))
    actual = read_lines(os.path.join(directory, "actual.jsonl"))
    if len(expected) != len(actual):
        print("expected %d results, got %d" % (len(expected), len(actual)))
        return 1
    failures = 0
    cycles = 0
    refused = 0
    for i, (want, got) in enumerate(zip(expected, actual)):
        problem = None
        if "refused" in want:
            refused += 1
            continue
        if got.get("error") is not None:
            problem = "pycmarshal failed: %s" % (got["error"]["message"],)
        else:
            try:
                tree = expand(got["root"], {}, {}, set())
            except Cycle:
                cycles += 1
                continue
            if normalize(tree) != normalize(want):
                problem = "differs at " + first_difference(want, tree)
        if problem:
            failures += 1
            if failures <= 10:
                print("case %d: %s" % (i, problem))
    print("compared %d cases: %d equal, %d differ, %d cyclic skipped%s" %
          (len(expected), len(expected) - failures - cycles - refused, failures, cycles,
           ", %d the interpreter could not load" % refused if refused else ""))
    return 1 if failures or cycles else 0


def magic_word():
    try:
        import importlib.util
        return importlib.util.MAGIC_NUMBER
    except ImportError:  # Python 2
        import imp
        return imp.get_magic()


def cmd_info(args):
    magic = bytearray(magic_word())
    implementation = getattr(sys, "implementation", None)
    name = implementation.name if implementation else platform.python_implementation().lower()
    cache_tag = implementation.cache_tag if implementation else "%s-%d%d" % ((name,) + sys.version_info[:2])
    print(json.dumps({
        "version": "%d.%d" % sys.version_info[:2],
        "implementation": name,
        "cache_tag": cache_tag,
        "magic": magic[0] | magic[1] << 8,
        "marshal_version": marshal.version,
    }))


# --- compiled standard library ---------------------------------------------------------------------

# Files that do not compile on purpose (test data of the standard library's own tests).
BROKEN = re.compile(r"site-packages|lib2to3/tests/data|bad|tokenizedata|test_future|py2_test_grammar")


def stdlib_sample(count):
    """Every k-th .py file of this interpreter's standard library (sorted by path, so the choice is
    stable) and the two largest: a spread of kinds of modules, `count` or so in all."""
    import sysconfig
    root = sysconfig.get_paths()["stdlib"]
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            if name.endswith(".py") and not BROKEN.search(path):
                paths.append(path)
    paths.sort()
    step = max(1, len(paths) // max(1, count))
    chosen = paths[::step][:count]
    largest = sorted(paths, key=os.path.getsize)[-2:]
    return root, sorted(set(chosen + largest))


def variants():
    """The kinds of pyc this interpreter's compileall writes: (name, invalidation mode, optimization
    level, interpreter flag). Python 2 has no optimize argument, so its levels come from -O/-OO, and its
    -U flag (unicode literals) writes magic + 1."""
    if PY2:
        return [("timestamp-0", None, 0, None), ("timestamp-1", None, 1, "-O"),
                ("timestamp-2", None, 2, "-OO"), ("unicode-0", None, 0, "-U")]
    if sys.version_info < (3, 7):
        return [("timestamp-%d" % level, None, level, None) for level in (0, 1, 2)]
    return [("timestamp-%d" % level, "TIMESTAMP", level, None) for level in (0, 1, 2)] + [
        ("checked-hash-0", "CHECKED_HASH", 0, None), ("unchecked-hash-0", "UNCHECKED_HASH", 0, None)]


def cmd_compile(args):
    """Copies a sample of the standard library into OUT/<variant>/ (flat: `json/decoder.py` becomes
    `json__decoder.py`) and compiles each copy with compileall as that variant says."""
    import compileall
    import shutil
    import subprocess
    out, count = args["--out"], int(args["--count"])
    root, paths = stdlib_sample(count)
    stdout, devnull = sys.stdout, open(os.devnull, "w")
    for name, mode, level, flag in variants():
        tree = os.path.join(out, name)
        os.makedirs(tree)
        for path in paths:
            flat = os.path.relpath(path, root).replace(os.sep, "__")
            shutil.copyfile(path, os.path.join(tree, flat))
        # compileall prints the files that fail to compile on purpose; only the summary is wanted.
        sys.stdout = devnull
        try:
            if flag is not None:
                code = "import compileall, sys; compileall.compile_dir(sys.argv[1], quiet=1)"
                subprocess.call([sys.executable, flag, "-c", code, tree], stdout=devnull, stderr=devnull)
            else:
                options = {} if PY2 else {"optimize": level}
                if mode is not None:
                    import py_compile
                    options["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, mode)
                compileall.compile_dir(tree, quiet=1, **options)
        finally:
            sys.stdout = stdout
    print(json.dumps({"sources": len(paths), "variants": [v[0] for v in variants()]}))


def parse_args(argv):
    args = {"paths": []}
    i = 0
    while i < len(argv):
        if argv[i].startswith("--"):
            if argv[i] == "--sources":
                args["--sources"] = argv[i + 1:]
                break
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            args["paths"].append(argv[i])
            i += 1
    return args


def main():
    command, args = sys.argv[1], parse_args(sys.argv[2:])
    handlers = {"values": cmd_values, "describe": cmd_describe, "compare": cmd_compare, "info": cmd_info,
                "compile": cmd_compile}
    return handlers[command](args) or 0


if __name__ == "__main__":
    sys.exit(main())
