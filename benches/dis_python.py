"""What `python -m dis` prints, for compiled files: every code object of each .pyc, disassembled by
this interpreter's dis.dis (which recurses into nested code objects) to /dev/null. `python -m dis`
itself takes a source file and compiles it first; this script starts from the same .pyc files
`pyc dis` reads, so both do the same work.

Usage: python3 benches/dis_python.py PYC...
"""
import dis
import importlib.util
import marshal
import os
import sys

with open(os.devnull, "w") as out:
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] == importlib.util.MAGIC_NUMBER:
            dis.dis(marshal.loads(data[16:]), file=out)
