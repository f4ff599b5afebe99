"""The second oracle: xdis (a cross-version unmarshaller) reads pyc files, and this lists each file's code
objects for the Rust side to compare with its own.

  python3 xdis_codes.py OUT < PATHS

Reads one path a line from standard input and writes OUT, one JSON object a line, in the same order:
{"path": P, "codes": [[name, firstlineno or null, bytecode length, number of constants], ...]} with the code
objects in pre-order (the module first, then the code objects among co_consts, depth first), or
{"path": P, "error": "..."} when xdis cannot read the file.
"""

import io
import json
import sys

from xdis import iscode
from xdis.load import load_module


def code_list(root):
    out = []
    stack = [root]
    while stack:
        code = stack.pop()
        name = code.co_name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        out.append([name, getattr(code, "co_firstlineno", None), len(code.co_code), len(code.co_consts)])
        stack.extend(reversed([c for c in code.co_consts if iscode(c)]))
    return out


def main():
    with io.open(sys.argv[1], "w", encoding="utf-8") as out:
        for line in sys.stdin:
            path = line.rstrip("\n")
            try:
                code = load_module(path)[3]
                record = {"path": path, "codes": code_list(code)}
            except Exception as error:  # xdis fails in many ways on files it cannot read
                record = {"path": path, "error": "%s: %s" % (type(error).__name__, error)}
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
