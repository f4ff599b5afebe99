"""Errors as exceptions: a cut file raises ``Truncated``, an ``EOFError`` too (as CPython's marshal raises
for a cut file), with the offset of the read that failed; anything else wrong with the data raises
``Error``, a ``ValueError``; a file that cannot be read raises ``OSError``. A tolerant load returns
what was decoded and the error instead. The offsets and messages are the library's: the ``pyc``
command reports the same."""

import json
import marshal
import os
import pickle
import sys
import threading

import pytest

import pycmarshal
from conftest import run_pyc


def some_caches(stdlib_caches, count=6):
    """A few of this interpreter's own caches, of different sizes."""
    chosen = sorted(stdlib_caches, key=os.path.getsize)
    step = max(1, len(chosen) // count)
    return chosen[::step][:count]


def test_a_cut_file_raises_truncated_wherever_it_is_cut(stdlib_caches, counts):
    cuts = 0
    for path in some_caches(stdlib_caches):
        with open(path, "rb") as f:
            data = f.read()
        for length in range(len(data)):
            with pytest.raises(pycmarshal.Truncated) as caught:
                pycmarshal.loads(data[:length])
            error = caught.value
            assert isinstance(error, EOFError) and isinstance(error, ValueError)
            assert error.kind == "truncated"
            assert 0 <= error.offset <= length
            assert str(error) == error.message
            assert error.message.startswith("truncated at byte %d while reading " % error.offset)
            assert error.path and error.path in error.message
            cuts += 1
    counts.append("%d cut files raised Truncated" % cuts)


def test_the_offset_and_message_are_the_ones_pyc_reports(stdlib_caches, tmp_path):
    path = some_caches(stdlib_caches)[-1]
    with open(path, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.pyc"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(pycmarshal.Truncated) as caught:
        pycmarshal.load(str(cut))
    dump = json.loads(run_pyc("dump", "--json", str(cut)).stdout)
    error = caught.value
    assert (error.kind, error.offset, error.path, error.message) == (
        dump["error"]["kind"], dump["error"]["offset"], dump["error"]["path"], dump["error"]["message"])
    assert error.filename == str(cut)
    assert str(error) == "%s: %s" % (cut, error.message)


def test_a_tolerant_load_returns_what_was_decoded_and_the_error(stdlib_caches):
    path = some_caches(stdlib_caches)[-1]
    with open(path, "rb") as f:
        data = f.read()
    pyc, error = pycmarshal.loads(data[: len(data) // 2], tolerant=True)
    assert isinstance(error, pycmarshal.Truncated)
    assert isinstance(pyc.code, pycmarshal.Code) and not pyc.code.complete
    assert pyc.header.magic == pycmarshal.loads(data).header.magic
    assert set(pyc.code.fields) <= set(pycmarshal.loads(data).code.fields)
    whole, none = pycmarshal.loads(data, tolerant=True)
    assert none is None and whole.code.complete
    nothing, error = pycmarshal.loads(b"", header=False, tolerant=True)
    assert nothing is None and isinstance(error, pycmarshal.Truncated)
    headless, error = pycmarshal.loads(data[:3], tolerant=True)
    assert headless.header is None and headless.code is None and error.offset == 0


def test_other_faults_raise_error_not_truncated():
    body = marshal.dumps((1, "a"))
    cases = [
        (b"?", "unknown-type-code", 0),
        (body + b"N", "trailing-bytes", len(body)),
        (b"(\xff\xff\xff\xff", "bad-length", 1),
    ]
    for data, kind, offset in cases:
        with pytest.raises(pycmarshal.Error) as caught:
            pycmarshal.loads(data, header=False, python="3.11")
        error = caught.value
        assert not isinstance(error, EOFError) and isinstance(error, ValueError), kind
        assert (error.kind, error.offset) == (kind, offset)
    with pytest.raises(pycmarshal.Error) as caught:
        pycmarshal.loads(b"\x34\x12\r\n" + bytes(12))
    assert caught.value.kind == "unknown-magic"


def test_errors_survive_pickling():
    try:
        pycmarshal.loads(b"(", header=False, python="3.11")
    except pycmarshal.Truncated as error:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is pycmarshal.Truncated
        assert (again.kind, again.offset, again.path, again.message) == (
            error.kind, error.offset, error.path, error.message)


def test_a_version_no_interpreter_has_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError) as caught:
        pycmarshal.loads(b"N", header=False, python="9.9")
    assert not isinstance(caught.value, pycmarshal.Error)
    assert "known: 1.0" in str(caught.value) and "3.11" in str(caught.value)


def test_a_file_that_cannot_be_read_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        pycmarshal.load(str(tmp_path / "missing.pyc"))
    assert caught.value.filename == str(tmp_path / "missing.pyc")
    with pytest.raises(OSError) as caught:
        pycmarshal.load(str(tmp_path))
    assert str(caught.value) == f"{tmp_path}: not a regular file (a directory)"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo.pyc"
    os.mkfifo(str(fifo))
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(load_error(str(fifo))), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "load blocked on a FIFO"
    assert isinstance(outcome[0], OSError)
    assert str(outcome[0]) == f"{fifo}: not a regular file (a FIFO)"


def load_error(path):
    try:
        pycmarshal.load(path)
    except Exception as error:
        return error
    return None
