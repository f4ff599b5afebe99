"""Values as Python builds them: every type marshal writes, with the value ``marshal.loads`` gives, shared
references as the same object and cycles as cycles, as marshal makes them (``compare.py``); data of
other versions read as that version wrote it."""

import marshal
import math
import sys

import pytest

import pycmarshal
from compare import compare

THIS = "%d.%d" % sys.version_info[:2]


def loads(data, python=THIS):
    return pycmarshal.loads(data, header=False, python=python)


def same(value, version=marshal.version):
    data = marshal.dumps(value, version)
    compare(loads(data), marshal.loads(data), pycmarshal.Code)
    return loads(data)


def test_every_type_loads_as_marshal_loads_it():
    def function(a, b=2, *args, c, **kw):
        def inner():
            return a, c
        return inner
    values = [
        None, True, False, Ellipsis, StopIteration, 0, -1, 255, 2 ** 31, -2 ** 63, 2 ** 64, -(2 ** 200),
        10 ** 5000, 0.0, -0.0, float("inf"), float("nan"), 1e-310, 1.5, complex(1, -0.0),
        "", "a", "text", "\xe9\u20ac\U0001f600", b"", b"\x00\xff", (), (1, "a"), [], [1, [2]],
        {}, {"a": 1, 2: [3]}, set(), {1, "b"}, frozenset(), frozenset([1, (2, 3)]),
        function.__code__, compile("x = [i for i in range(3)]", "m.py", "exec"),
    ]
    for version in range(marshal.version + 1):
        for value in values:
            same(value, version)


def test_lone_surrogates_are_kept():
    text = "a\ud800b\udfff"
    assert same(text) == text
    assert same((text, text)) == (text, text)


def test_shared_references_are_the_same_object():
    inner = [1, 2]
    text = "not interned, shared"
    outer = same((inner, inner, text, text, 1.5))
    assert outer[0] is outer[1]
    assert outer[2] is outer[3]


def test_cycles_through_lists_and_dicts_are_cycles():
    cyclic = []
    cyclic.append(cyclic)
    loaded = same(cyclic)
    assert loaded[0] is loaded
    mapping = {}
    mapping["self"] = mapping
    loaded = same(mapping)
    assert loaded["self"] is loaded
    holder = ([],)
    holder[0].append(holder)
    loaded = same(holder)
    assert loaded[0][0] is loaded
    keyed = ({},)
    keyed[0]["back"] = keyed
    loaded = same(keyed)
    assert loaded[0]["back"] is loaded


def test_a_tuple_that_holds_itself_only_through_tuples_is_unsupported():
    # (r0,): a flagged tuple whose one item refers back to it. marshal.loads builds it through its C
    # internals; Python code, and this package, cannot.
    data = b"\xa9\x01r\x00\x00\x00\x00"
    built = marshal.loads(data)
    assert built[0] is built
    with pytest.raises(pycmarshal.Error) as caught:
        loads(data)
    assert caught.value.kind == "unsupported" and caught.value.offset == 2
    assert caught.value.path == "[0]: reference"
    partial, error = pycmarshal.loads(data, header=False, python=THIS, tolerant=True)
    assert error.kind == "unsupported" and partial is None


def test_an_unhashable_set_item_raises_the_type_error_marshal_raises():
    data = b"<\x01\x00\x00\x00[\x00\x00\x00\x00"
    with pytest.raises(TypeError):
        marshal.loads(data)
    with pytest.raises(TypeError):
        loads(data)


def test_interned_strings_are_interned():
    name = "an_identifier_" + str(12345)
    data = marshal.dumps(sys.intern(name))
    assert loads(data) is sys.intern(name)


def test_data_of_other_versions_reads_as_they_wrote_it():
    # Python 2.7: `s` is a byte string, `u` text, `t` an interned byte string a later `R` refers to.
    data = b"(\x04\x00\x00\x00s\x02\x00\x00\x00abu\x02\x00\x00\x00\xc3\xa9t\x01\x00\x00\x00xR\x00\x00\x00\x00"
    loaded = loads(data, python="2.7")
    assert loaded == (b"ab", "\xe9", b"x", b"x")
    assert loaded[2] is loaded[3]
    # Marshal 5 (3.14) slices: slice(1, None, None).
    data = b":\xe9\x01\x00\x00\x00NN"
    assert loads(data, python="3.14") == slice(1, None, None)


def test_raw_data_without_a_version_is_read_as_its_structure_says():
    code = compile("x = 1", "m.py", "exec")
    loaded = pycmarshal.loads(marshal.dumps(code), header=False)
    assert isinstance(loaded, pycmarshal.Code) and loaded.co_names == ("x",)
    assert pycmarshal.loads(marshal.dumps([1, "a"]), header=False) == [1, "a"]
    assert math.isnan(pycmarshal.loads(marshal.dumps(float("nan")), header=False))


def test_code_objects_have_the_attributes_of_their_versions_python():
    code = compile("def f(a, b):\n    def g():\n        return a\n    return g\n", "m.py", "exec")
    loaded = loads(marshal.dumps(code))
    f = loaded.co_consts[0]
    real = code.co_consts[0]
    for name in ("co_varnames", "co_cellvars", "co_freevars", "co_nlocals", "co_argcount", "co_name"):
        assert getattr(f, name) == getattr(real, name), name
    assert set(loaded.fields) <= set(dir(loaded))
    assert loaded.complete and loaded.layout
    assert "co_consts" in repr(list(loaded.fields)) and "m.py" in repr(loaded)
    with pytest.raises(AttributeError):
        loaded.co_nonsense
    with pytest.raises(AttributeError):
        loaded.co_name = "changed"
