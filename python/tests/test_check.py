"""``check()`` reports what ``pyc check --json`` reports, line for line, on a tree damaged in every way
it names; ``normalize()`` writes what ``pyc normalize`` writes; ``infer()`` finds the version of a body
whose header was stripped."""

import dis
import json
import marshal
import os
import py_compile
import shutil
import sys

import pycmarshal
from compare import compare
from conftest import run_pyc


def damaged_tree(root):
    """A package of caches: ok, stale, orphan, truncated, corrupt, unknown-magic, tag-mismatch,
    incomplete-write, and a legacy sourceless one."""
    pkg = os.path.join(root, "pkg")
    os.makedirs(pkg)
    names = ["ok", "stale", "orphan", "cut", "corrupt", "magic", "zero", "other", "legacy"]
    caches = {}
    for name in names:
        source = os.path.join(pkg, name + ".py")
        with open(source, "w") as f:
            f.write("x = %r\n" % name)
        caches[name] = py_compile.compile(source, doraise=True)
    with open(os.path.join(pkg, "stale.py"), "a") as f:
        f.write("y = 2\n")
    os.remove(os.path.join(pkg, "orphan.py"))

    def rewrite(name, edit):
        with open(caches[name], "rb") as f:
            data = bytearray(f.read())
        with open(caches[name], "wb") as f:
            f.write(edit(data))

    rewrite("cut", lambda data: data[:-3])
    rewrite("corrupt", lambda data: data[:16] + b"?" + data[17:])
    rewrite("magic", lambda data: b"\x34\x12" + data[2:])
    rewrite("zero", lambda data: bytes(4) + data[4:])
    tag = sys.implementation.cache_tag
    shutil.move(caches["other"], caches["other"].replace(tag, "cpython-399"))
    shutil.move(caches["legacy"], os.path.join(pkg, "legacy.pyc"))
    os.remove(os.path.join(pkg, "legacy.py"))
    return pkg


def test_check_reports_what_pyc_check_json_reports(tmp_path):
    tree = damaged_tree(str(tmp_path))
    for options, flags in [({}, []), ({"source": False}, ["--no-source"])]:
        ours = list(pycmarshal.check(tree, **options))
        output = run_pyc("check", "--json", *(flags + [tree]))
        lines = [json.loads(line) for line in output.stdout.splitlines()]
        assert lines[:-1] == ours
        assert "counts" in lines[-1] and "path" not in lines[-1]
    statuses = sorted(report["status"] for report in pycmarshal.check([tree]))
    assert statuses == sorted(["ok", "stale", "orphan", "truncated", "corrupt", "unknown-magic",
                               "incomplete-write", "tag-mismatch", "ok"])


def test_deep_check_finds_damaged_bytecode_as_pyc_check_deep_does(tmp_path):
    """A byte of ``co_code`` turned into an opcode the version lacks still parses: only the deep
    check sees it, and reports it as ``pyc check --deep --json`` does."""
    source = tmp_path / "m.py"
    source.write_text("def f(x):\n    return x + 1\n")
    cache = py_compile.compile(str(source), doraise=True)
    with open(cache, "rb") as f:
        data = bytearray(f.read())
    code = marshal.loads(bytes(data[16:]))
    function = next(c for c in code.co_consts if hasattr(c, "co_code"))
    at = data.index(function.co_code)
    undefined = next(op for op in range(256) if dis.opname[op].startswith("<"))
    data[at] = undefined
    with open(cache, "wb") as f:
        f.write(bytes(data))
    (shallow,) = pycmarshal.check(cache, source=False)
    assert shallow["status"] == "ok"
    (deep,) = pycmarshal.check(cache, source=False, deep=True)
    assert deep["status"] == "corrupt" and deep["error"]["kind"] == "undefined-opcode"
    assert deep["error"]["offset"] == at
    output = run_pyc("check", "--json", "--deep", "--no-source", cache)
    assert json.loads(output.stdout.splitlines()[0]) == deep


def test_check_pairs_a_pycache_prefix_tree_with_its_sources(tmp_path):
    source = tmp_path / "src" / "m.py"
    source.parent.mkdir()
    source.write_text("x = 1\n")
    prefix = tmp_path / "prefix"
    cache = py_compile.compile(str(source), cfile=str(prefix / str(source.parent).lstrip(os.sep)
                                                       / ("m.%s.pyc" % sys.implementation.cache_tag)))
    (report,) = pycmarshal.check(pycache_prefix=str(prefix))
    assert report["path"] == cache and report["source"] == str(source) and report["status"] == "ok"
    source.write_text("x = 2  # changed\n")
    (report,) = pycmarshal.check(str(prefix), pycache_prefix=str(prefix))
    assert report["status"] == "stale"


def test_normalize_writes_what_pyc_normalize_writes(stdlib_caches, tmp_path):
    for path in stdlib_caches[:: max(1, len(stdlib_caches) // 20)]:
        with open(path, "rb") as f:
            data = f.read()
        normalized = pycmarshal.normalize(data)
        out = tmp_path / "out.pyc"
        assert run_pyc("normalize", "-o", str(out), path).returncode == 0
        assert out.read_bytes() == normalized
        assert normalized[:16] == data[:16]
        compare(pycmarshal.loads(normalized).code, marshal.loads(normalized[16:]), pycmarshal.Code)
        assert pycmarshal.normalize(normalized) == normalized


def test_infer_names_the_version_of_a_stripped_body(stdlib_caches):
    with open(stdlib_caches[0], "rb") as f:
        data = f.read()
    layout = pycmarshal.loads(data).code.layout
    (best, *_) = pycmarshal.infer(data[16:], header=False)
    assert best["layout"] == layout and best["problems"] == 0 and best["codes"] > 0
    assert best["start"] == 0 and best["implementation"] == "CPython"
    (best, *_) = pycmarshal.infer(b"\x00\x00\x00\x00" + data[4:])
    assert best["start"] == 16 and best["layout"] == layout
    assert pycmarshal.infer(b"garbage", header=False) == []
