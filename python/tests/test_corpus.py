"""The shared corpus (files of every version, from pycdc, xdis, uncompyle6 and decompile3), held to the
oracles the Rust tests use: every file loads strictly (``tests/corpus.rs``); the files of this
interpreter's code layout and string dialect load to what its own ``marshal.loads`` makes of them
(``tests/interpreters.rs``); every CPython and PyPy file's code objects agree with xdis's, where xdis
reads the file right (``tests/xdis.rs``, ``tests/oracle/xdis_wrong.txt``)."""

import collections
import marshal
import os
import sys

import pytest

import pycmarshal
from compare import Counts, compare
from conftest import REPOSITORY


def own_layout():
    """The code layout of this interpreter's own code objects, as pycmarshal reads them."""
    return pycmarshal.loads(marshal.dumps(compile("0", "", "exec")), header=False,
                            python="%d.%d" % sys.version_info[:2]).layout


def buildable(pyc, layout):
    """True when this interpreter's marshal can build the file's code objects, as
    ``tests/interpreters.rs`` chooses them: its layout, its string dialect, and from 3.11 its own
    version only (code objects are specialised when built)."""
    header = pyc.header
    if header.implementation not in ("CPython", "PyPy") or pyc.code.layout != layout:
        return False
    major, minor = (int(part) for part in header.python.split("."))
    if major != 3 or (header.implementation == "PyPy" and minor <= 2):
        return False
    return layout != "V3_11" or (major, minor) == sys.version_info[:2]


def test_every_corpus_file_loads_strictly(corpus, counts):
    by_folder = collections.Counter()
    for label, path in corpus:
        pyc = pycmarshal.load(path)
        assert isinstance(pyc.code, pycmarshal.Code), path
        assert pyc.code.complete, path
        by_folder[label] += 1
    assert sum(by_folder.values()) > 1800
    counts.append("corpus: %d files in %d folders load strictly" % (sum(by_folder.values()), len(by_folder)))


def test_corpus_files_of_this_layout_load_as_marshal_loads_them(corpus, counts):
    layout = own_layout()
    total, files, refused, failures = Counts(), 0, [], []
    for label, path in corpus:
        pyc = pycmarshal.load(path)
        if not buildable(pyc, layout):
            continue
        with open(path, "rb") as f:
            body = f.read()[pyc.header.size:]
        try:
            theirs = marshal.loads(body)
        except Exception as error:  # another version's code objects this one cannot build
            refused.append("%s/%s: %s: %s" % (label, os.path.basename(path), type(error).__name__, error))
            continue
        files += 1
        try:
            # Other writers (3.0-3.3, PyPy) leave out the CO_NOFREE flag that CPython before 3.10 sets
            # on every code object it builds.
            total.add(compare(pyc.code, theirs, pycmarshal.Code, mask_nofree=True))
        except AssertionError as error:
            failures.append("%s/%s: %s" % (label, os.path.basename(path), error))
    assert not failures, "\n".join(failures)
    if files == 0:
        pytest.skip("no corpus file has this interpreter's layout (%s)" % layout)
    counts.append("corpus on %s (layout %s): %d files, %d code objects, %d constants equal to "
                  "marshal.loads; %d it cannot build" % (sys.version.split()[0], layout, files,
                                                        total.codes, total.constants, len(refused)))


def pre_order(code, is_code):
    """Each code object's name, first line, bytecode length and number of constants, the module
    first, then those among co_consts depth first (what ``tests/xdis.rs`` compares)."""
    out, stack = [], [code]
    while stack:
        code = stack.pop()
        name = code.co_name
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        out.append((name, getattr(code, "co_firstlineno", None), len(code.co_code), len(code.co_consts)))
        stack.extend(reversed([c for c in code.co_consts if is_code(c)]))
    return out


def test_code_objects_agree_with_xdis_wherever_xdis_reads_the_file(corpus, counts):
    pytest.importorskip("xdis", reason="xdis is not installed here (the test driver installs it "
                                       "beside python3's version only)")
    from xdis import iscode
    from xdis.load import load_module
    with open(os.path.join(REPOSITORY, "tests", "oracle", "xdis_wrong.txt")) as f:
        wrong = set(line.strip() for line in f if line.strip() and not line.startswith("#"))
    agree, codes, cannot, proven, disagree = 0, 0, [], 0, []
    for label, path in corpus:
        pyc = pycmarshal.load(path)
        if pyc.header.implementation not in ("CPython", "PyPy"):
            continue
        name = "%s/%s" % (label, os.path.basename(path))
        ours = pre_order(pyc.code, lambda value: isinstance(value, pycmarshal.Code))
        try:
            theirs = pre_order(load_module(path)[3], iscode)
        except Exception as error:  # xdis fails in many ways on files it cannot read
            if name not in wrong:
                cannot.append("%s: %s: %s" % (name, type(error).__name__, error))
            else:
                proven += 1
            continue
        if theirs == ours:
            agree += 1
            codes += len(ours)
        elif name in wrong:
            proven += 1
        else:
            disagree.append(name)
    assert not disagree, disagree
    unexplained = [line for line in cannot if "Unknown magic number" not in line]
    assert not unexplained, unexplained
    assert proven == len(wrong), "xdis now reads some of tests/oracle/xdis_wrong.txt"
    counts.append("xdis: %d corpus files agree (%d code objects); %d where xdis is proven wrong; "
                  "%d with magics xdis does not know" % (agree, codes, proven, len(cannot)))
