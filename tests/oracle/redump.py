"""For each pyc named on stdin (one path per line), writes marshal.dumps(marshal.loads(body)) to
OUT/<n>.marshal, n counting from 0: the same value, as this interpreter dumps it today (its FLAG_REF
placement follows reference counts, so it differs from the file's). With --equal, instead reads
OUT/<n>.marshal (pycmarshal's output for file n) and checks that marshal.loads of it describes as the
file's body does (oracle.py's description: floats by repr, so a NaN constant equals itself, and sets as
multisets); prints the number of files checked and exits 1 on the first difference.

  python3 redump.py OUT [--equal] < list
"""
import marshal
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import canonical, describe  # noqa: E402


def header_size(data):
    value = data[0] | data[1] << 8
    return 16 if 3392 <= value < 5000 else 12 if 3210 <= value <= 3391 else 8


def main():
    out, equal = sys.argv[1], "--equal" in sys.argv
    paths = sys.stdin.read().splitlines()
    for n, path in enumerate(paths):
        with open(path, "rb") as f:
            data = f.read()
        value = marshal.loads(data[header_size(data):])
        target = os.path.join(out, "%d.marshal" % n)
        if equal:
            with open(target, "rb") as f:
                ours = marshal.loads(f.read())
            # == first (fast); a NaN constant makes it false, so then compare descriptions.
            if ours != value and canonical(describe(ours)) != canonical(describe(value)):
                print("%s: normalized value differs" % path)
                return 1
        else:
            with open(target, "wb") as f:
                f.write(marshal.dumps(value))
    print(len(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
