"""Writes the project's seed corpus: small inputs for the fuzz targets and for the tests that run the
targets' bodies. Everything here is made by this script from interpreters on the machine; nothing is
copied from elsewhere.

  python3 corpus/generate.py        (from the repository root; rewrites corpus/pyc and corpus/marshal)

- corpus/pyc: small modules compiled by python3's py_compile in every invalidation mode and
  optimization level (and by pyenv's 2.7 when present, for the 8-byte header and Python 2 strings).
- corpus/marshal: marshal.dumps of values that use every type code, at every marshal version the
  interpreter has (v0-v4 from python3; v0-v2 from 2.7), plus hand-made bytes for the codes no local
  interpreter writes (slice ':' of 3.14, frozendict '}' of 3.15).
"""
import marshal
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

MODULES = {
    "empty": "",
    "constants": "X = (1, -2, 2**40, -2**100, 1.5, -0.0, float('inf'), 1j, 2+3j, b'\\x00\\xff', 'ascii',\n"
                 "     'caf\\xe9', '\\u20ac\\U0001f600', None, True, False, ..., frozenset({1, 2}), ())\n",
    "functions": "def f(a, b=1, *args, c, d=2, **kw):\n    return a + b\n\n"
                 "def g(x, /, y):\n    def inner():\n        return x + y\n    return inner\n\n"
                 "class C:\n    '''doc'''\n    attr = [1, 2]\n    def method(self):\n        return self.attr\n",
    "control": "import os\ntry:\n    v = os.sep\nexcept Exception as e:\n    v = None\nfinally:\n    w = 1\n"
               "for i in range(3):\n    if i: break\nelse:\n    pass\n"
               "async def co():\n    async with x: await y\n"
               "squares = [i * i for i in range(10)]\nlookup = {k: v for k, v in zip('ab', (1, 2))}\n",
}

VALUES = {
    "none": None, "bools": (True, False), "ellipsis": ..., "stopiteration": StopIteration,
    "ints": (0, 1, -1, 2**31 - 1, -2**31, 2**31, 2**63, -2**64, 10**50),
    "floats": (0.0, -0.0, 1.5, 1e300, 5e-324, float("inf"), float("-inf"), float("nan")),
    "complex": (1j, -2.5 + 0.5j),
    "bytes": (b"", b"\x00\x01\xff", b"x" * 300),
    "strings": ("", "a", "ascii text", "x" * 300, "caf\xe9", "\u20ac", "\U0001f600", "\ud800 lone"),
    "interned": (sys.intern("interned_name"), sys.intern("interned_name")),
    "containers": ([1, [2, [3]]], {"k": {"n": (1,)}}, {1, 2, 3}, frozenset({"a", "b"}), (), []),
    "shared": (lambda t: (t, t, [t]))(("shared", 1)),
    "code": compile("def f(x):\n    return x + 1\n", "<seed>", "exec"),
}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def compiled_modules(out):
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in sorted(MODULES.items()):
            src = os.path.join(tmp, name + ".py")
            with open(src, "w") as f:
                f.write(source)
            for mode in py_compile.PycInvalidationMode:
                for level in (0, 1, 2):
                    target = os.path.join(out, "%s.%s.opt%d.pyc" % (name, mode.name.lower(), level))
                    py_compile.compile(src, cfile=target, doraise=True, invalidation_mode=mode,
                                       optimize=level)


def marshal_samples(out):
    for name, value in sorted(VALUES.items()):
        for version in range(marshal.version + 1):
            write(os.path.join(out, "py3-v%d-%s.marshal" % (version, name)), marshal.dumps(value, version))
    # Codes no local interpreter writes: slice(1, None, 'x') as 3.14 writes it; a frozendict (3.15).
    write(os.path.join(out, "py314-v5-slice.marshal"), b":\xe9\x01\x00\x00\x00N\xfa\x01x")
    write(os.path.join(out, "py315-v6-frozendict.marshal"), b"}\xfa\x01k\xe9\x01\x00\x00\x000")


PY2_SCRIPT = r"""
import marshal, sys
values = {
    'ints': (0, -1, 2**40, 5L, -(2**70)),
    'strings': ('byte str', u'unicode \u20ac', intern('name'), intern('name')),
    'floats': (1.5, -0.0, 1e300, 2+3j),
    'containers': ([1, [2]], {'k': (1,)}, set([1, 2]), frozenset(['a'])),
    'code': compile('def f(x):\n    return x + 1\n', '<seed>', 'exec'),
}
out = sys.argv[1]
for name in sorted(values):
    for version in range(marshal.version + 1):
        with open('%s/py27-v%d-%s.marshal' % (out, version, name), 'wb') as f:
            f.write(marshal.dumps(values[name], version))
"""


def python27():
    try:
        root = subprocess.check_output(["pyenv", "root"]).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    path = os.path.join(root, "versions", "2.7.18", "bin", "python")
    return path if os.path.exists(path) else None


def main():
    pyc_dir, marshal_dir = os.path.join(HERE, "pyc"), os.path.join(HERE, "marshal")
    for directory in (pyc_dir, marshal_dir):
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
    compiled_modules(pyc_dir)
    marshal_samples(marshal_dir)
    python2 = python27()
    if python2:
        subprocess.check_call([python2, "-c", PY2_SCRIPT, marshal_dir])
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "legacy.py")
            with open(src, "w") as f:
                f.write("class C:\n    def method(self, x=u'\\u20ac'):\n        return [x, 1L, 2.5, 'name']\n")
            subprocess.check_call([python2, "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], "
                                   "sys.argv[2], doraise=True)", src, os.path.join(pyc_dir, "legacy.py27.pyc")])
    else:
        print("no pyenv 2.7: Python 2 samples not written")
    count = len(os.listdir(pyc_dir)) + len(os.listdir(marshal_dir))
    print("wrote %d seed files" % count)


if __name__ == "__main__":
    main()
