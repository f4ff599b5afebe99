"""The Python side of the differential tests: Python describes marshal data, pycmarshal must agree.

Runs on every interpreter the tests use (CPython 2.7 and 3.6+, PyPy), so it sticks to what they share.

  oracle.py values --seed N --count N --out DIR [--versions 0,1,2,3,4] [--sources FILE...]
      Generates random values, dumps each with every marshal version given, and writes
      DIR/inputs.txt (one hex line per case: "<marshal version> <hex>") and DIR/expect.jsonl (the
      description of marshal.loads(data), made here from the loaded value).
  oracle.py describe --out DIR PYC...
      Same files for pyc files this interpreter wrote: the body after the header, and its description.
  oracle.py compare DIR
      Reads DIR/expect.jsonl and DIR/actual.jsonl (pycmarshal's JSON documents, same order), expands
      pycmarshal's back-references, compares, prints a summary; exit status 1 on any difference.
  oracle.py info
      Prints this interpreter's facts as JSON (version, implementation, magic, marshal version).

The description is the README's JSON form without references: what the value *is*, as this interpreter
loaded it. Sets compare as multisets.
"""

import binascii
import json
import marshal
import os
import random
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

# Longs with more 15-bit digits than this are hexadecimal in the JSON form (see the README).
DECIMAL_DIGIT_LIMIT = 4096
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
    inputs.write("%d %s\n" % (version, hexlify(data)))
    expect.write(json.dumps(describe(marshal.loads(data)), sort_keys=True))
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


def header_size(data):
    magic = data[0:2]
    value = bytearray(magic)[0] | bytearray(magic)[1] << 8
    if 3392 <= value < 5000:
        return 16
    if 3210 <= value <= 3391:
        return 12
    return 8


def cmd_describe(args):
    out = args["--out"]
    with open(os.path.join(out, "inputs.txt"), "w") as inputs:
        with open(os.path.join(out, "expect.jsonl"), "w") as expect:
            for path in args["paths"]:
                with open(path, "rb") as f:
                    data = f.read()
                body = data[header_size(data):]
                write_case(inputs, expect, -1, body)
    print(len(args["paths"]))


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
        out["fields"] = dict((k, v if isinstance(v, int) else expand(v, table, interned, building))
                             for k, v in out["fields"].items())
    if ref is not None:
        building.discard(ref)
        table[ref] = out
    if "interned" in node:
        interned[node["interned"]] = out
    return out


def canonical(node):
    """A string that equals another's exactly when the two describe the same value (sets as multisets)."""
    if isinstance(node, list):
        return "[" + ",".join(canonical(v) for v in node) + "]"
    if not isinstance(node, dict):
        return json.dumps(node)
    parts = []
    for key in sorted(node):
        value = node[key]
        if key == "items":
            items = [canonical(v) for v in value]
            if node.get("type") in ("set", "frozenset"):
                items.sort()
            parts.append('"items":[' + ",".join(items) + "]")
        else:
            parts.append(json.dumps(key) + ":" + canonical(value))
    return "{" + ",".join(parts) + "}"


def cmd_compare(args):
    directory = args["paths"][0]
    expected = open(os.path.join(directory, "expect.jsonl")).read().splitlines()
    actual = open(os.path.join(directory, "actual.jsonl")).read().splitlines()
    if len(expected) != len(actual):
        print("expected %d results, got %d" % (len(expected), len(actual)))
        return 1
    failures = 0
    cycles = 0
    for i, (want_line, got_line) in enumerate(zip(expected, actual)):
        want = json.loads(want_line)
        got = json.loads(got_line)
        problem = None
        if got.get("error") is not None:
            problem = "pycmarshal failed: %s" % (got["error"]["message"],)
        else:
            try:
                tree = expand(got["root"], {}, {}, set())
            except Cycle:
                cycles += 1
                continue
            if canonical(tree) != canonical(want):
                problem = "differs:\n  want %s\n  got  %s" % (canonical(want)[:2000], canonical(tree)[:2000])
        if problem:
            failures += 1
            if failures <= 10:
                print("case %d: %s" % (i, problem))
    print("compared %d cases: %d equal, %d differ, %d cyclic skipped" %
          (len(expected), len(expected) - failures - cycles, failures, cycles))
    return 1 if failures or cycles else 0


def cmd_info(args):
    import importlib.util
    magic = importlib.util.MAGIC_NUMBER
    print(json.dumps({
        "version": "%d.%d" % sys.version_info[:2],
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "magic": bytearray(magic)[0] | bytearray(magic)[1] << 8,
        "marshal_version": marshal.version,
    }))


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
    handlers = {"values": cmd_values, "describe": cmd_describe, "compare": cmd_compare, "info": cmd_info}
    return handlers[command](args) or 0


if __name__ == "__main__":
    sys.exit(main())
