"""The Python baseline of benches/check_vs_python.sh: what `pyc check --no-source DIR` does, in Python.

Usage: python3 benches/check_marshal.py DIR

Walks DIR, reads every .pyc and .pyo file, checks that its magic is this interpreter's and
`marshal.loads` its body (after the 16-byte header), and prints how many files loaded and how many did
not. Python 3.7+ only (PEP 552 headers); it needs nothing outside the standard library.
"""

import importlib.util
import marshal
import os
import sys


def main(root):
    magic = importlib.util.MAGIC_NUMBER
    good = bad = size = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            if not name.endswith((".pyc", ".pyo")):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            size += len(data)
            try:
                if data[:4] != magic:
                    raise ValueError("bad magic")
                marshal.loads(data[16:])
                good += 1
            except (ValueError, EOFError, TypeError):
                bad += 1
    print("%d files loaded, %d failed, %d bytes" % (good, bad, size))


if __name__ == "__main__":
    main(sys.argv[1])
