"""Every file of this interpreter's compiled standard library loads, through pycmarshal, to what
``marshal.loads`` makes of its body: code objects attribute by attribute, constants recursively,
sharing and cycles as marshal makes them (see ``compare.py``)."""

import marshal
import sys

import pycmarshal
from compare import Counts, compare


def test_every_stdlib_cache_loads_as_marshal_loads_it(stdlib_caches, counts):
    total = Counts()
    failures = []
    for path in stdlib_caches:
        with open(path, "rb") as f:
            data = f.read()
        pyc = pycmarshal.loads(data)
        assert pyc.header.size == (16 if sys.version_info >= (3, 7) else 12)
        theirs = marshal.loads(memoryview(data)[pyc.header.size:])
        try:
            total.add(compare(pyc.code, theirs, pycmarshal.Code))
        except AssertionError as error:
            failures.append("%s: %s" % (path, error))
    assert not failures, "\n".join(failures[:20])
    skipped = ""
    if total.skipped:
        skipped = "; not compared (CPython computes them, pycmarshal does not): %s" % (
            ", ".join(sorted(total.skipped)))
    counts.append("stdlib of %s: %d files, %d code objects, %d constants equal to marshal.loads%s"
                  % (sys.version.split()[0], len(stdlib_caches), total.codes, total.constants, skipped))
