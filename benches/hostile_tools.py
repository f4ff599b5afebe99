#!/usr/bin/env python3
"""Hostile inputs for the tools around the decoder (issue 10): time, memory and output, measured.

Usage:
  python3 benches/hostile_tools.py --pyc target/release/pyc [--scratch DIR] [--timeout 60]
      [--mem-cap 8G] [--only CASE[,CASE...]] [--json] [--markdown FILE] [--list]

For each finding of issue 10 this crafts the inputs (marshal bytes written here with `struct`; real
CPython output from `py_compile` where a valid file is needed), runs the given `pyc` binary on each,
one process at a time, and prints a markdown table: case, command, wall seconds, peak RSS, output size,
exit status and notes (`--json`: the same rows as JSON). It measures and never asserts: run it on any
binary, before and after a fix, and compare the tables.

Every command runs as `/usr/bin/time -f '%e %M %x' sh -c 'ulimit -v CAP; exec pyc ...'`: its address
space is capped at --mem-cap (default 8G; the `-j 5000` case alone gets 64G of address space, since
5 000 thread stacks reserve more than 8 GiB they never touch), a watchdog polls its resident size and
kills it (by PID) past --mem-cap, and past --timeout (default 60 s; the FIFO cases --fifo-timeout,
default 10 s, since a FIFO without a writer never delivers a byte; `-j 5000` 3x --timeout). Peak RSS
is GNU time's %M, the command's own maximum resident set. Output is what it wrote to stdout (counted
through a pipe, not stored). "TIMEOUT" and "MEM CAP" in the notes say a limit stopped the command;
"MEM CAP" covers the watchdog's kill and the command's own allocation failure under the cap. Wall time
is measured here, from the exec of the command (after any gate) to its exit. The machine's 1-minute
load average is noted when it exceeds the core count plus one (timings are then not comparable). MB are 10^6
bytes.

Cases (--only takes these names; --list prints them):
  infer      (1)  co_consts back-references, 16/20/22/40 levels: dump --no-header, dump --infer, dump
  symlink    (2)  normalize with a symlink planted at .NAME.PID.tmp (the PID is known: the command is
                  held in a shell that waits on a FIFO before it execs pyc, so its PID is the shell's)
  fifo       (3)  a FIFO named to check/info/dump/normalize; a FIFO swapped in after the walk listed it
  dump-text  (4)  refs to a 4,096-digit long and to a 100 KB bytes; dicts/tuples 1,990 deep (14 KB);
                  1-tuples 1,990 deep over 10,000 Nones (14 KB) and over 1,000,000 (1 MB)
  reads      (5)  /dev/zero behind a .pyc name; a 2 GiB all-zero sparse file; a checked-hash pyc
                  beside a 6 GB sparse source (--source-gb)
  memory     (6)  json::document via dump --json (50 MB of Nones); normalize_pyc via normalize -o
                  (10 MB of empty tuples): the CLI is the proxy for the library calls
  race       (7)  a writer truncating and rewriting real pycs while `pyc check` loops (--race-seconds)
  longs      (8)  20 MB of 4,096-digit longs: dump and dump --json
  nonutf8    (9)  __pycache__/\\xff.cpython-311.pyc beside \\xff.py (and an ASCII control)
  small      (10) a directory named y.pyc; check -j 5000 on two files; a text float with a NUL

Needs python3 (3.9+, standard library only), GNU time at /usr/bin/time and, for real pyc files, a CPython 3.11 (--cpython,
default python3.11 on PATH, else this interpreter if it is 3.11). Large inputs are sparse files or are
deleted after their case (--keep keeps them). Linux only (/proc, /usr/bin/time, mkfifo).
"""

import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

MB = 1_000_000
GIB = 1 << 30
FLAG_REF = 0x80
MAGIC_311 = b"\xa7\x0d\x0d\x0a"  # CPython 3.11 (3495)
ALLOC_FAILURE = re.compile(
    r"memory allocation of \d+ bytes failed|out of memory|Cannot allocate memory|capacity overflow"
)


# --------------------------------------------------------------------------------------------------
# Marshal, written by hand (CPython 3.11's format), so that the shapes are exactly the ones wanted.
# --------------------------------------------------------------------------------------------------


class Marshal:
    """A marshal stream written in stream order; flagged objects get reference slots in that order."""

    def __init__(self):
        self.out = bytearray()
        self.slots = 0

    def _type(self, code, ref):
        self.out.append(ord(code) | (FLAG_REF if ref else 0))
        if ref:
            self.slots += 1
            return self.slots - 1
        return None

    def raw(self, data):
        self.out += data

    def none(self):
        self.out += b"N"

    def int(self, value, ref=False):
        slot = self._type("i", ref)
        self.out += struct.pack("<i", value)
        return slot

    def long(self, digits, negative=False, ref=False):
        """`digits`: little-endian 15-bit digits as bytes (2 a digit), top digit non-zero."""
        slot = self._type("l", ref)
        count = len(digits) // 2
        self.out += struct.pack("<i", -count if negative else count)
        self.out += digits
        return slot

    def bytes(self, data, ref=False):
        slot = self._type("s", ref)
        self.out += struct.pack("<i", len(data)) + data
        return slot

    def ascii(self, text, ref=False):
        data = text.encode("ascii")
        if len(data) < 256:
            slot = self._type("z", ref)
            self.out += bytes([len(data)]) + data
        else:
            slot = self._type("a", ref)
            self.out += struct.pack("<i", len(data)) + data
        return slot

    def tuple(self, count, ref=False):
        """The head of a tuple; the caller writes its `count` items next."""
        if count < 256:
            slot = self._type(")", ref)
            self.out.append(count)
        else:
            slot = self._type("(", ref)
            self.out += struct.pack("<i", count)
        return slot

    def list(self, count, ref=False):
        slot = self._type("[", ref)
        self.out += struct.pack("<i", count)
        return slot

    def dict(self, ref=False):
        """The head of a dict; the caller writes key, value pairs, then `dict_end`."""
        return self._type("{", ref)

    def dict_end(self):
        self.out += b"0"

    def ref(self, slot):
        self.out += b"r" + struct.pack("<I", slot)

    def code311(self, consts, name="f"):
        """A 3.11 code object (marshal.c's field order); `consts()` writes its co_consts."""
        self._type("c", False)
        # argcount, posonlyargcount, kwonlyargcount, stacksize, flags
        self.out += struct.pack("<5i", 0, 0, 0, 1, 0)
        self.bytes(b"\x97\x00d\x00S\x00")  # RESUME 0; LOAD_CONST 0; RETURN_VALUE
        consts()
        self.tuple(0)  # co_names
        self.tuple(0)  # co_localsplusnames
        self.bytes(b"")  # co_localspluskinds
        self.ascii("x.py")  # co_filename
        self.ascii(name)  # co_name
        self.ascii(name)  # co_qualname
        self.out += struct.pack("<i", 1)  # co_firstlineno
        self.bytes(b"")  # co_linetable
        self.bytes(b"")  # co_exceptiontable

    def data(self):
        return bytes(self.out)


def header311(flags=0, mtime=0, size=0, hash8=None):
    if hash8 is not None:
        return MAGIC_311 + struct.pack("<I", flags) + hash8
    return MAGIC_311 + struct.pack("<III", flags, mtime, size)


def pyc_of_consts(write_consts):
    """A 3.11 pyc (timestamp header) whose root code object's co_consts `write_consts(m)` writes."""
    m = Marshal()
    m.code311(lambda: write_consts(m), name="<module>")
    return header311() + m.data()


# --------------------------------------------------------------------------------------------------
# Running one command under limits, measured.
# --------------------------------------------------------------------------------------------------


def parse_size(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError("expected a size like 8G, 512M or 1073741824")
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(float(match.group(1)) * scale[match.group(2).upper()])


class Capture(threading.Thread):
    """Reads a pipe to its end, counting bytes and keeping the first `keep` of them."""

    def __init__(self, pipe, keep=8192):
        super().__init__(daemon=True)
        self.pipe, self.keep = pipe, keep
        self.count, self.head = 0, bytearray()

    def run(self):
        while True:
            chunk = self.pipe.read(1 << 20)
            if not chunk:
                break
            self.count += len(chunk)
            if len(self.head) < self.keep:
                self.head += chunk[: self.keep - len(self.head)]
        self.pipe.close()

    def text(self):
        return self.head.decode("utf-8", "replace")


def rss_bytes(pid):
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Run:
    """One finished command: what it cost and what it said."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


TIME = "/usr/bin/time"


def run(argv, ctx, *, timeout=None, address_space=None, gate=None, during=None, keep=65536):
    """Runs argv (argv[0] the binary) under the limits, and measures it.

    The chain is `/usr/bin/time -f '%e %M %x'` -> `sh` (sets `ulimit -v`, writes its PID, which the
    exec keeps, to a file) -> the command, so the peak RSS is the command's own (a child forked from
    this Python process would inherit its resident size in ru_maxrss). `gate(pid)`, when given, runs
    before the command starts, with its PID known: `sh` waits on a FIFO and execs once gate returns.
    `during(pid, finished)`, when given, runs on a thread while the command runs (to change files
    under it); `finished` is an Event set once the command has exited."""
    timeout = ctx.timeout if timeout is None else timeout
    cap = ctx.mem_cap
    address_space = address_space or cap
    control = ctx.fresh(".run")
    pidfile, gatefile, timefile = (os.path.join(control, name) for name in ("pid", "gate", "time"))
    script = "ulimit -v %d; ulimit -c 0; echo $$ > %s; " % (address_space // 1024, shlex.quote(pidfile))
    if gate is not None:
        os.mkfifo(gatefile)
        script += "read _ < %s; " % shlex.quote(gatefile)
    script += 'exec "$0" "$@"'
    command = [TIME, "-o", timefile, "-f", "%e %M %x", "/bin/sh", "-c", script] + list(argv)
    launched = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out, err = Capture(proc.stdout, keep=keep), Capture(proc.stderr, keep=4096)
    out.start()
    err.start()
    pid = None
    while pid is None and proc.poll() is None and time.monotonic() - launched < 30:
        try:
            with open(pidfile) as f:
                text = f.read()
            if text.endswith("\n"):
                pid = int(text)
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.001)
    if gate is not None:
        try:
            if pid is not None:
                gate(pid)
        finally:
            while proc.poll() is None:
                try:
                    fd = os.open(gatefile, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:  # ENXIO: sh has not opened it yet
                    time.sleep(0.001)
                    continue
                os.write(fd, b"go\n")
                os.close(fd)
                break
    load = os.getloadavg()[0]
    start = time.monotonic()
    state = {"timeout": False, "watchdog": False}
    done = threading.Event()
    lock = threading.Lock()

    def kill():
        # The command alone, by its PID (time then reports the signal and the peak RSS); the
        # session, time included, only if that did not end it.
        with lock:
            if done.is_set() or pid is None:
                return
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if done.wait(10):
            return
        with lock:
            if not done.is_set():
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def watchdog():
        while not done.wait(0.02):
            if pid is not None and rss_bytes(pid) > cap:
                state["watchdog"] = True
                kill()
                return
            if time.monotonic() - start > timeout:
                state["timeout"] = True
                kill()
                return

    dog = threading.Thread(target=watchdog, daemon=True)
    dog.start()
    helper = None
    if during is not None and pid is not None:
        helper = threading.Thread(target=during, args=(pid, done), daemon=True)
        helper.start()
    proc.wait()
    wall = time.monotonic() - start
    with lock:
        done.set()
    dog.join()
    out.join()
    err.join()
    if helper is not None:
        helper.join()
    returncode, rss = proc.returncode, 0
    try:
        lines = open(timefile).read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        killed = re.match(r"Command terminated by signal (\d+)", line)
        if killed:
            returncode = -int(killed.group(1))
    if lines:
        fields = lines[-1].split()
        if len(fields) == 3:
            rss = int(fields[1]) * 1024
            if returncode >= 0:
                returncode = int(fields[2])
    stderr = err.text()
    allocation = ALLOC_FAILURE.search(stderr)
    return Run(
        argv=list(argv),
        wall=wall,
        rss=rss,
        out_bytes=out.count,
        stdout=out.text(),
        stderr=stderr,
        returncode=returncode,
        timed_out=state["timeout"],
        capped=state["watchdog"] or allocation is not None,
        cap_reason="RSS watchdog" if state["watchdog"] else (allocation.group(0) if allocation else None),
        load=load,
    )


def exit_text(code):
    if code >= 0:
        return str(code)
    try:
        return signal.Signals(-code).name
    except ValueError:
        return "signal %d" % -code


def first_line(text, limit=140):
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def size_text(n):
    if n >= 10 * MB:
        return "%.0f MB" % (n / MB)
    if n >= MB:
        return "%.1f MB" % (n / MB)
    if n >= 1000:
        return "%.1f KB" % (n / 1000)
    return "%d B" % n


# --------------------------------------------------------------------------------------------------
# The harness.
# --------------------------------------------------------------------------------------------------


class Context:
    def __init__(self, args):
        self.pyc = os.path.abspath(args.pyc)
        self.scratch = os.path.abspath(args.scratch)
        self.timeout = args.timeout
        self.fifo_timeout = args.fifo_timeout
        self.mem_cap = args.mem_cap
        self.keep = args.keep
        self.race_seconds = args.race_seconds
        self.source_bytes = int(args.source_gb * 1e9)
        self.cpython = args.cpython
        self.rows = []
        self.verbose = not args.quiet

    def path(self, *parts):
        path = os.path.join(self.scratch, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def show(self, argv):
        words = []
        for word in argv:
            word = os.fsdecode(word) if isinstance(word, bytes) else str(word)
            if word == self.pyc:
                word = "pyc"
            word = word.replace(self.scratch, "$S")
            words.append(word)
        return " ".join(words)

    def record(self, case, result, notes=(), input_bytes=None, extra=None):
        notes = list(notes)
        if input_bytes is not None:
            notes.insert(0, "in " + size_text(input_bytes))
        if result.timed_out:
            notes.insert(0, "TIMEOUT (killed at %.0f s)" % result.wall)
        if result.capped:
            notes.insert(0, "MEM CAP (%s)" % result.cap_reason)
        load = getattr(result, "load", None)
        if load is not None and load > (os.cpu_count() or 1) + 1:
            notes.append("busy machine: load %.1f at start" % load)
        row = {
            "case": case,
            "command": self.show(result.argv),
            "wall_s": round(result.wall, 3),
            "peak_rss_mb": round(result.rss / MB, 1),
            "output_mb": round(result.out_bytes / MB, 3),
            "output_bytes": result.out_bytes,
            "exit": exit_text(result.returncode),
            "timeout": result.timed_out,
            "mem_cap": result.capped,
            "input_bytes": input_bytes,
            "notes": "; ".join(n for n in notes if n),
            "stderr_head": first_line(result.stderr, 300),
            "load1": getattr(result, "load", None),
        }
        if extra:
            row["extra"] = extra
        self.rows.append(row)
        if self.verbose:
            print(
                "  %-28s %7.2f s %8.1f MB rss %9.3f MB out  exit %-7s %s"
                % (case, row["wall_s"], row["peak_rss_mb"], row["output_mb"], row["exit"], row["notes"]),
                file=sys.stderr,
                flush=True,
            )
        return row

    def fresh(self, name):
        """An empty folder for a case (what an earlier run left there is removed)."""
        path = os.path.join(self.scratch, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        os.makedirs(path)
        return path

    def note_stderr(self, result):
        line = first_line(result.stderr)
        return ("stderr: " + line.replace(self.scratch, "$S")) if line else ""

    def remove(self, *paths):
        if self.keep:
            return
        for path in paths:
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                pass


def find_cpython(requested):
    candidates = [requested] if requested else ["python3.11"]
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    return None


COMPILE = """
import py_compile, sys
mode = py_compile.PycInvalidationMode[sys.argv[3]]
py_compile.compile(sys.argv[1], cfile=sys.argv[2], invalidation_mode=mode, doraise=True)
"""

COMPILE_STDLIB = """
import os, py_compile, sys, sysconfig
out, count = sys.argv[1], int(sys.argv[2])
stdlib = sysconfig.get_paths()['stdlib']
found = []
for folder, subfolders, names in os.walk(stdlib):
    subfolders[:] = sorted(d for d in subfolders if d not in ('test', 'tests', 'site-packages', 'idlelib'))
    for name in sorted(names):
        path = os.path.join(folder, name)
        if name.endswith('.py') and 8000 <= os.path.getsize(path) <= 120000 and len(found) < count:
            cfile = os.path.join(out, '%03d_%s.pyc' % (len(found), name[:-3]))
            try:
                py_compile.compile(path, cfile=cfile, doraise=True)
            except Exception:
                continue
            found.append(path)
print(' '.join(found))
"""

LOADS = """
import marshal, sys
data = open(sys.argv[1], 'rb').read()[int(sys.argv[2]):]
try:
    value = marshal.loads(data)
except Exception as error:
    print('CPython marshal.loads: %s: %s' % (type(error).__name__, error))
else:
    text = repr(value) if isinstance(value, (int, float)) and abs(value) < 1e300 else type(value).__name__
    print('CPython marshal.loads: ok (%s)' % text[:60])
"""


def cpython_compile(ctx, source, cfile, mode="TIMESTAMP"):
    if ctx.cpython is None:
        raise RuntimeError("no CPython 3.11 found: give --cpython")
    subprocess.run([ctx.cpython, "-c", COMPILE, source, cfile, mode], check=True)


def cpython_loads(ctx, path, offset=0):
    """What CPython 3.11's marshal.loads makes of the file's bytes from `offset` (a note)."""
    if ctx.cpython is None:
        return ""
    done = subprocess.run(
        [ctx.cpython, "-c", LOADS, path, str(offset)], capture_output=True, text=True, timeout=300
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[-1] if lines else ""


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return size


SMALL_MODULE = """\
import os

GREETING = "hello"


def greet(name, punctuation="!"):
    return "%s, %s%s" % (GREETING, name, punctuation)


class Counter:
    def __init__(self):
        self.counts = {}

    def add(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]
"""


# --- (1) infer -----------------------------------------------------------------------------------


def infer_marshal(levels):
    """A code object whose co_consts is T_levels, T_k = (code with co_consts T_(k-1) written inline,
    code with co_consts a back-reference to T_(k-1)); T_0 = () flagged. Linear in size; a walk that
    follows references visits 2^levels code objects."""
    m = Marshal()

    def level(k):
        if k == 0:
            return m.tuple(0, ref=True)
        slot = m.tuple(2, ref=True)
        inner = []
        m.code311(lambda: inner.append(level(k - 1)), name="a%d" % k)
        m.code311(lambda: m.ref(inner[0]), name="b%d" % k)
        return slot

    m.code311(lambda: level(levels), name="<module>")
    return m.data()


def case_infer(ctx):
    ctx.fresh("infer")
    for levels in (16, 20, 22, 40):
        body = infer_marshal(levels)
        raw = ctx.path("infer", "levels%d.bin" % levels)
        size = write(raw, body)
        notes = [cpython_loads(ctx, raw)] if levels == 40 else []
        result = run([ctx.pyc, "dump", "--no-header", raw], ctx)
        ctx.record("1 infer-%d --no-header" % levels, result, notes + [ctx.note_stderr(result)], size)
    pyc = ctx.path("infer", "levels40.pyc")
    size = write(pyc, header311() + infer_marshal(40))
    result = run([ctx.pyc, "dump", "--infer", pyc], ctx)
    ctx.record("1 infer-40 --infer", result, [ctx.note_stderr(result)], size)
    result = run([ctx.pyc, "dump", pyc], ctx)
    ctx.record("1 infer-40 with header", result, ["control: no inference"], size)


# --- (2) symlink ---------------------------------------------------------------------------------


def case_symlink(ctx):
    ctx.fresh("symlink")
    folder = ctx.path("symlink", "pkg", "x")[:-2]
    source = os.path.join(folder, "m.py")
    write(source, SMALL_MODULE.encode())
    cache = os.path.join(folder, "__pycache__", "m.cpython-311.pyc")
    cpython_compile(ctx, source, cache)
    os.chmod(cache, 0o644)
    original = open(cache, "rb").read()
    victim = ctx.path("symlink", "victim.txt")
    secret = b"the victim's own bytes\n"
    write(victim, secret)
    os.chmod(victim, 0o600)
    check = run([ctx.pyc, "normalize", "--check", cache], ctx)
    needs = "not normalized" in check.stdout
    planted = {}

    def plant(pid):
        link = os.path.join(os.path.dirname(cache), ".%s.%d.tmp" % (os.path.basename(cache), pid))
        os.symlink(victim, link)
        planted["link"] = link

    result = run([ctx.pyc, "normalize", cache], ctx, gate=plant)
    after = open(victim, "rb").read()
    mode = stat.S_IMODE(os.stat(victim).st_mode)
    notes = [
        "link .m.cpython-311.pyc.<PID>.tmp -> victim planted before exec",
        "file was %snormalized before" % ("not " if needs else "already "),
        "victim %s" % ("OVERWRITTEN (%d -> %d bytes)" % (len(secret), len(after)) if after != secret else "intact"),
        "victim mode 0o%o%s" % (mode, " (CHANGED from 0o600)" if mode != 0o600 else ""),
        "cache %s" % ("IS NOW THE SYMLINK" if os.path.islink(cache) else "is a regular file"),
        "planted link %s" % ("still there" if os.path.lexists(planted["link"]) else "gone"),
    ]
    ctx.record("2 normalize planted link", result, notes + [ctx.note_stderr(result)], len(original))
    return {"victim_overwritten": after != secret, "victim_mode": oct(mode), "cache_is_link": os.path.islink(cache)}


# --- (3) fifo ------------------------------------------------------------------------------------


def case_fifo(ctx):
    ctx.fresh("fifo")
    fifo = ctx.path("fifo", "named", "f.cpython-311.pyc")
    if os.path.lexists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    for command in (["check"], ["info"], ["dump"], ["normalize"]):
        result = run([ctx.pyc] + command + [fifo], ctx, timeout=ctx.fifo_timeout)
        ctx.record("3 fifo named: %s" % command[0], result, [ctx.note_stderr(result)])
    ctx.remove(fifo)

    # Swapped in after the walk listed it: many regular files first, checked one at a time (-j 1);
    # once the command has a file of the folder open, the sorted walk has listed the whole folder, so
    # the last name (a regular file when listed) is replaced by a FIFO.
    folder = ctx.path("fifo", "swap", "x")[:-2]
    template = ctx.path("fifo", "template.cpython-311.pyc")
    write(ctx.path("fifo", "template.py"), SMALL_MODULE.encode())
    cpython_compile(ctx, ctx.path("fifo", "template.py"), template)
    data = open(template, "rb").read()
    count = 20000
    for i in range(count):
        write(os.path.join(folder, "a%05d.pyc" % i), data)
    last = os.path.join(folder, "z.pyc")
    write(last, data)
    swap = {"done": False, "running": None, "at": None}

    def swapper(pid, finished):
        start = time.monotonic()
        fd_dir = "/proc/%d/fd" % pid
        while not finished.is_set() and time.monotonic() - start < ctx.fifo_timeout:
            try:
                names = os.listdir(fd_dir)
            except OSError:
                break
            seen = False
            for name in names:
                try:
                    if os.readlink(os.path.join(fd_dir, name)).startswith(folder + "/a"):
                        seen = True
                        break
                except OSError:
                    pass
            if seen:
                replacement = last + ".fifo"
                os.mkfifo(replacement)
                os.rename(replacement, last)
                swap.update(done=True, running=not finished.is_set(), at=time.monotonic() - start)
                return
            time.sleep(0.0005)

    result = run([ctx.pyc, "check", "-j", "1", "--no-source", folder], ctx, timeout=ctx.fifo_timeout,
                 during=swapper)
    lines = [line.replace(ctx.scratch, "$S") for line in result.stdout.splitlines() if line.strip()]
    about_last = [line for line in lines if "z.pyc" in line]
    if swap["done"] and swap["running"]:
        when = "z.pyc replaced by a FIFO %.3f s in, while the command ran" % swap["at"]
    elif swap["done"]:
        when = "swap done after the command ended"
    else:
        when = "SWAP NOT DONE (no file of the folder seen open)"
    notes = [
        "%d regular files a*.pyc, then z.pyc; -j 1" % count,
        when,
        "z.pyc: " + (about_last[0] if about_last else "no line (ok, or never reported)"),
        ("summary: " + lines[-1]) if lines and not result.timed_out else "",
        ctx.note_stderr(result),
    ]
    ctx.record("3 fifo swapped after walk", result, notes)
    ctx.remove(folder)


# --- (4) dump text -------------------------------------------------------------------------------


def long_digits(rng, count):
    """`count` random 15-bit digits, little endian, the top one non-zero."""
    data = bytearray(rng.randbytes(2 * count))
    data[1::2] = data[1::2].translate(HIGH_BYTE_MASK)
    data[-2] |= 1
    return bytes(data)


HIGH_BYTE_MASK = bytes(b & 0x7F for b in range(256))


def nest(m, depth):
    """Dicts {k: ...} and tuples (k, ...) alternating, `depth` deep, 7 bytes a level; None at the bottom."""
    dicts = []
    for level in range(depth):
        if level % 2 == 0:
            m.dict()
            m.int(level)
            dicts.append(True)
        else:
            m.tuple(2)
            m.int(level)
            dicts.append(False)
    m.none()
    for is_dict in reversed(dicts):
        if is_dict:
            m.dict_end()


def dump_case(ctx, case, path, size, argv_extra=(), notes=()):
    result = run([ctx.pyc, "dump"] + list(argv_extra) + [path], ctx)
    ratio = "out/in %.0fx" % (result.out_bytes / size) if size and result.out_bytes else ""
    ctx.record(case, result, list(notes) + [ratio, ctx.note_stderr(result) if result.returncode else ""], size)
    return result


def case_dump_text(ctx):
    ctx.fresh("dump")
    rng = random.Random(4096)
    digits = long_digits(rng, 4096)

    def long_refs(m):
        m.tuple(2001)
        slot = m.long(digits, ref=True)
        for _ in range(2000):
            m.ref(slot)

    path = ctx.path("dump", "refs-long.pyc")
    size = write(path, pyc_of_consts(long_refs))
    dump_case(ctx, "4 refs to a 4096-digit long", path, size, notes=["2,000 r refs", cpython_loads(ctx, path, 16)])

    def bytes_refs(m):
        m.tuple(1501)
        slot = m.bytes(b"\0" * 100_000, ref=True)
        for _ in range(1500):
            m.ref(slot)

    path = ctx.path("dump", "refs-bytes.pyc")
    size = write(path, pyc_of_consts(bytes_refs))
    dump_case(ctx, "4 refs to a 100 KB bytes", path, size, notes=["1,500 r refs", cpython_loads(ctx, path, 16)])

    # Dicts and tuples 7 bytes a level (14 KB), then 1-tuples 2 bytes a level with the rest of the
    # input at the bottom: Nones, one line each at depth 1,990 (the 14 KB -> 95 MB shape), and the same
    # grown to 1 MB.
    def mixed(m):
        m.tuple(1)
        nest(m, 1990)

    path = ctx.path("dump", "nest-dicts-tuples.pyc")
    size = write(path, pyc_of_consts(mixed))
    dump_case(ctx, "4 dicts/tuples 1,990 deep", path, size, notes=["7 B a level", cpython_loads(ctx, path, 16)])
    for nones in (10_000, 1_000_000):
        def deep(m, nones=nones):
            m.tuple(1)
            m.raw(b")\x01" * 1990)
            m.tuple(nones)
            m.raw(b"N" * nones)

        path = ctx.path("dump", "nest-nones-%d.pyc" % nones)
        size = write(path, pyc_of_consts(deep))
        dump_case(ctx, "4 1,990 deep, %s Nones" % format(nones, ","), path, size,
                  notes=["1-tuples 1,990 deep, a tuple of %s Nones at the bottom" % format(nones, ","),
                         cpython_loads(ctx, path, 16)])
    ctx.remove(ctx.path("dump", "x")[:-2])


# --- (5) reads without a limit --------------------------------------------------------------------


def case_reads(ctx):
    ctx.fresh("reads")
    zero = ctx.path("reads", "zero.cpython-311.pyc")
    if os.path.lexists(zero):
        os.unlink(zero)
    os.symlink("/dev/zero", zero)
    for command in (["check"], ["info"], ["dump"], ["normalize"]):
        result = run([ctx.pyc] + command + [zero], ctx)
        ctx.record("5 /dev/zero as .pyc: %s" % command[0], result, ["a symlink to /dev/zero", status_note(ctx, result)])
    ctx.remove(zero)

    big = ctx.path("reads", "allzero.pyc")
    size = sparse(big, 2 * GIB)
    for command in (["check"], ["info"], ["dump"]):
        result = run([ctx.pyc] + command + [big], ctx)
        ctx.record("5 2 GiB all-zero file: %s" % command[0], result,
                   ["sparse, 2^31 bytes", status_note(ctx, result)], size)
    ctx.remove(big)

    folder = ctx.path("reads", "hash", "x")[:-2]
    source = os.path.join(folder, "m.py")
    write(source, b"x = 1\n")
    cache = os.path.join(folder, "__pycache__", "m.cpython-311.pyc")
    cpython_compile(ctx, source, cache, "CHECKED_HASH")
    pyc_size = os.path.getsize(cache)
    sparse(source, ctx.source_bytes)
    result = run([ctx.pyc, "check", folder], ctx)
    ctx.record("5 checked-hash, %.0f GB source" % (ctx.source_bytes / 1e9), result,
               ["%d-byte pyc, sparse source of %s" % (pyc_size, size_text(ctx.source_bytes)), status_note(ctx, result)])
    ctx.remove(folder)


def status_note(ctx, result):
    """The status a command gave, from its first line of stdout or stderr."""
    for text in (result.stdout, result.stderr):
        line = first_line(text, 160)
        if line:
            return line.replace(ctx.scratch, "$S")
    return ""


# --- (6) memory outside the parser -----------------------------------------------------------------


def case_memory(ctx):
    ctx.fresh("memory")
    path = ctx.path("memory", "nones.bin")
    count = 50_000_000
    with open(path, "wb") as f:
        f.write(b"[" + struct.pack("<i", count))
        chunk = b"N" * (1 << 20)
        left = count
        while left:
            f.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
    size = count + 5
    result = run([ctx.pyc, "dump", "--json", "--no-header", "--python", "3.11", path], ctx)
    ctx.record("6 json: 50 MB of Nones", result, [
        "CLI proxy for json::document", "rss/in %.1f B/B" % (result.rss / size), ctx.note_stderr(result) if result.returncode else ""], size)
    ctx.remove(path)

    count = 5_000_000

    def tuples(m):
        m.tuple(count)
        m.raw(b")\x00" * count)

    path = ctx.path("memory", "tuples.pyc")
    size = write(path, pyc_of_consts(tuples))
    out = ctx.path("memory", "tuples-normalized.pyc")
    result = run([ctx.pyc, "normalize", "-o", out, path], ctx)
    written = os.path.getsize(out) if os.path.exists(out) else None
    ctx.record("6 normalize: 10 MB of ()", result, [
        "CLI proxy for normalize_pyc", "rss/in %.1f B/B" % (result.rss / size),
        "wrote %s (5-byte refs to one ())" % size_text(written) if written is not None else "wrote nothing",
        ctx.note_stderr(result) if result.returncode else ""], size)
    ctx.remove(path, out)


# --- (7) read race -------------------------------------------------------------------------------


def race_writer(folder, originals, seconds, seed):
    """Rewrites the files of `folder` from `originals` until `seconds` pass, three ways, each leaving
    only prefixes of the real file (with a zero magic in the first way) on disk at any time: the old
    way (truncate, write a zero magic and the body, patch the magic last), truncate-then-append, and
    truncate to a random prefix then append the rest. Three cycles in four write the rest in one call
    (fast cycles: the zero pages come from truncations racing reads), the others in random chunks."""
    rng = random.Random(seed)
    names = sorted(os.listdir(originals))
    datas = {name: open(os.path.join(originals, name), "rb").read() for name in names}
    counts = {"zero-magic-first": 0, "truncate-append": 0, "truncate-to-prefix": 0}
    ways = list(counts)
    end = time.monotonic() + seconds

    def append(fd, data, pos):
        chunked = rng.random() < 0.25
        while pos < len(data):
            step = rng.randint(1, 16384) if chunked else len(data)
            os.pwrite(fd, data[pos : pos + step], pos)
            pos += step

    while time.monotonic() < end:
        name = rng.choice(names)
        data = datas[name]
        way = rng.choice(ways)
        fd = os.open(os.path.join(folder, name), os.O_WRONLY)
        try:
            if way == "zero-magic-first":
                os.ftruncate(fd, 0)
                append(fd, b"\0\0\0\0" + data[4:], 0)
                os.pwrite(fd, data[:4], 0)
            elif way == "truncate-append":
                os.ftruncate(fd, 0)
                append(fd, data, 0)
            else:
                pos = rng.randint(0, len(data))
                os.ftruncate(fd, pos)
                append(fd, data, pos)
        finally:
            os.close(fd)
        counts[way] += 1
    for name in names:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(datas[name])
    return counts


def case_race(ctx):
    ctx.fresh("race")
    root = ctx.path("race", "x")[:-2]
    originals = os.path.join(root, "originals")
    folder = os.path.join(root, "live")
    os.makedirs(originals, exist_ok=True)
    os.makedirs(folder, exist_ok=True)
    # Real pycs: CPython 3.11 compiles the first 160 standard-library modules of 8-120 KB of source.
    done = subprocess.run([ctx.cpython, "-c", COMPILE_STDLIB, originals, "160"], capture_output=True,
                          text=True, check=True)
    sources = done.stdout.split()
    for name in os.listdir(originals):
        shutil.copyfile(os.path.join(originals, name), os.path.join(folder, name))
    total = sum(os.path.getsize(os.path.join(originals, n)) for n in os.listdir(originals))
    writer = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--race-writer", folder, originals, str(ctx.race_seconds)],
        stdout=subprocess.PIPE, text=True,
    )
    counts, corrupt, others = {}, [], []
    runs = rss = out_bytes = 0
    load_at_start = os.getloadavg()[0]
    start = time.monotonic()
    worst = None
    while writer.poll() is None:
        result = run([ctx.pyc, "check", "--json", "--no-source", folder], ctx, keep=1 << 24)
        runs += 1
        rss = max(rss, result.rss)
        out_bytes += result.out_bytes
        if result.timed_out or result.capped or result.returncode < 0:
            worst = result
        for line in result.stdout.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "path" not in record:
                continue
            status = record["status"]
            counts[status] = counts.get(status, 0) + 1
            if status == "corrupt":
                corrupt.append(record.get("message"))
            elif status not in ("ok", "truncated", "incomplete-write"):
                others.append("%s: %s" % (status, record.get("message")))
    wall = time.monotonic() - start
    ways = json.loads(writer.stdout.read() or "{}")
    final = run([ctx.pyc, "check", "--no-source", folder], ctx)
    reads = sum(counts.values())
    summary = Run(argv=[ctx.pyc, "check", "--json", "--no-source", folder], wall=wall, rss=rss,
                  out_bytes=out_bytes, stdout="", stderr="", returncode=worst.returncode if worst else 0,
                  timed_out=bool(worst and worst.timed_out), capped=bool(worst and worst.capped),
                  cap_reason=worst.cap_reason if worst else None, load=load_at_start)
    notes = [
        "%d files (%s), %d check runs, %d reads in %.0f s" % (len(sources), size_text(total), runs, reads, wall),
        "writer: " + ", ".join("%s %d" % kv for kv in ways.items()),
        "statuses: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())),
        "CORRUPT %d" % len(corrupt),
        ("e.g. " + corrupt[0]) if corrupt else "",
        ("other: " + others[0]) if others else "",
        "after the writer: " + first_line(final.stdout),
    ]
    ctx.record("7 read race", summary, notes, extra={
        "counts": counts, "corrupt": len(corrupt), "corrupt_messages": corrupt[:20],
        "other_messages": others[:20], "runs": runs, "reads": reads, "writer": ways})
    ctx.remove(root)


# --- (8) longs -----------------------------------------------------------------------------------


def case_longs(ctx):
    ctx.fresh("longs")
    rng = random.Random(8)
    count = 20_000_000 // (1 + 4 + 2 * 4096)

    def longs(m):
        m.tuple(count)
        for _ in range(count):
            m.long(long_digits(rng, 4096))

    path = ctx.path("longs", "longs.pyc")
    size = write(path, pyc_of_consts(longs))
    dump_case(ctx, "8 %d longs of 4,096 digits" % count, path, size)
    dump_case(ctx, "8 %d longs of 4,096 digits, --json" % count, path, size, ["--json"])
    ctx.remove(path)


# --- (9) non-UTF-8 names ---------------------------------------------------------------------------


def case_nonutf8(ctx):
    ctx.fresh("nonutf8")
    folder = os.fsencode(ctx.path("nonutf8", "x")[:-2])
    cache = os.path.join(folder, b"__pycache__")
    os.makedirs(cache, exist_ok=True)
    for stem in (b"\xff", b"ascii"):
        source = os.path.join(folder, b"tmp.py")
        write(source, SMALL_MODULE.encode())
        cfile = os.path.join(cache, b"tmp.cpython-311.pyc")
        cpython_compile(ctx, os.fsdecode(source), os.fsdecode(cfile))
        os.rename(source, os.path.join(folder, stem + b".py"))  # keeps the mtime the header holds
        os.rename(cfile, os.path.join(cache, stem + b".cpython-311.pyc"))
    result = run([ctx.pyc, "check", folder], ctx)
    ctx.record("9 non-UTF-8 module name", result, [
        "\\xff.py + __pycache__/\\xff.cpython-311.pyc, and ascii.py + its pyc (control)",
        " | ".join(line.replace(ctx.scratch, "$S") for line in result.stdout.splitlines()[:3])])


# --- (10) smaller findings -----------------------------------------------------------------------


def case_small(ctx):
    ctx.fresh("small")
    folder = ctx.path("small", "y.pyc", "x")[:-2]
    os.makedirs(folder, exist_ok=True)
    result = run([ctx.pyc, "check", folder], ctx)
    ctx.record("10 directory named y.pyc", result, ["an empty directory", status_note(ctx, result),
                                                     ctx.note_stderr(result)])

    m = Marshal()
    m.raw(b"f\x081.5\x00junk")
    path = ctx.path("small", "float-nul.bin")
    size = write(path, m.data())
    result = run([ctx.pyc, "dump", "--no-header", "--python", "3.11", path], ctx)
    ctx.record("10 text float with a NUL", result, [
        "b'f\\x08' b'1.5\\x00junk'", cpython_loads(ctx, path), "pyc: " + status_note(ctx, result)], size)

    # Last: 5 000 threads leave the load average high for a minute.
    source = ctx.path("small", "two", "m.py")
    write(source, SMALL_MODULE.encode())
    first = ctx.path("small", "two", "a.pyc")
    cpython_compile(ctx, source, first)
    second = ctx.path("small", "two", "b.pyc")
    shutil.copyfile(first, second)
    result = run([ctx.pyc, "check", "-j", "5000", "--no-source", first, second], ctx, address_space=64 * GIB,
                 timeout=3 * ctx.timeout)
    ctx.record("10 check -j 5000, two files", result, [
        "timeout 3x --timeout; ulimit -v 64 GiB (thread stacks), RSS watchdog at --mem-cap",
        status_note(ctx, result)])


CASES = {
    "infer": case_infer,
    "symlink": case_symlink,
    "fifo": case_fifo,
    "dump-text": case_dump_text,
    "reads": case_reads,
    "memory": case_memory,
    "race": case_race,
    "longs": case_longs,
    "nonutf8": case_nonutf8,
    "small": case_small,
}


def markdown(rows, ctx):
    lines = [
        "| case | command | wall s | peak RSS MB | output MB | exit | notes |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        cells = [row["case"], "`%s`" % row["command"], "%.2f" % row["wall_s"], "%.1f" % row["peak_rss_mb"],
                 "%.3f" % row["output_mb"] if row["output_mb"] < 10 else "%.0f" % row["output_mb"],
                 row["exit"], row["notes"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--race-writer":
        folder, originals, seconds = sys.argv[2], sys.argv[3], float(sys.argv[4])
        print(json.dumps(race_writer(folder, originals, seconds, seed=7)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pyc", help="the pyc binary to measure (e.g. target/release/pyc)")
    parser.add_argument("--scratch", help="folder for the crafted inputs (default: a new folder under /tmp)")
    parser.add_argument("--only", action="append", default=[], metavar="CASE",
                        help="run only these cases (repeat, or separate with commas)")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall-clock limit per command, s (60)")
    parser.add_argument("--fifo-timeout", type=float, default=10.0, help="limit for the FIFO cases, s (10)")
    parser.add_argument("--mem-cap", type=parse_size, default=8 * GIB,
                        help="address-space (ulimit -v) and resident-size limit per command (8G)")
    parser.add_argument("--race-seconds", type=float, default=60.0, help="how long the read race runs, s (60)")
    parser.add_argument("--source-gb", type=float, default=6.0,
                        help="size of the sparse source beside the checked-hash pyc, GB (6)")
    parser.add_argument("--cpython", help="CPython 3.11 for py_compile and marshal.loads (python3.11)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of markdown")
    parser.add_argument("--markdown", metavar="FILE", help="also write the markdown table to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the crafted inputs")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    if args.list:
        for name, function in CASES.items():
            print(name)
        return 0
    if not args.pyc:
        parser.error("--pyc is required")
    if not os.access(args.pyc, os.X_OK):
        parser.error("%s is not an executable" % args.pyc)
    selected = [name for item in args.only for name in item.split(",") if name]
    unknown = [name for name in selected if name not in CASES]
    if unknown:
        parser.error("unknown case %s (cases: %s)" % (", ".join(unknown), ", ".join(CASES)))
    args.scratch = args.scratch or tempfile.mkdtemp(prefix="hostile-")
    os.makedirs(args.scratch, exist_ok=True)
    args.cpython = find_cpython(args.cpython)
    ctx = Context(args)
    version = subprocess.run([ctx.pyc, "--version"], capture_output=True, text=True).stdout.strip()
    if ctx.verbose:
        print("%s (%s); scratch %s; timeout %.0f s; mem cap %.1f GiB; cpython %s" % (
            ctx.pyc, version, ctx.scratch, ctx.timeout, ctx.mem_cap / GIB, ctx.cpython), file=sys.stderr)
    for name, function in CASES.items():
        if selected and name not in selected:
            continue
        if ctx.verbose:
            print("%s:" % name, file=sys.stderr, flush=True)
        try:
            function(ctx)
        except Exception as error:  # a case that cannot be built is reported, and the others run
            ctx.rows.append({"case": name, "command": "", "wall_s": 0, "peak_rss_mb": 0, "output_mb": 0,
                             "output_bytes": 0, "exit": "-", "timeout": False, "mem_cap": False,
                             "input_bytes": None, "notes": "HARNESS ERROR: %s: %s" % (type(error).__name__, error),
                             "stderr_head": ""})
            if ctx.verbose:
                import traceback
                traceback.print_exc()
    table = markdown(ctx.rows, ctx)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if args.json:
        print(json.dumps({"binary": ctx.pyc, "version": version, "timeout_s": ctx.timeout,
                          "mem_cap_bytes": ctx.mem_cap, "rows": ctx.rows}, indent=1))
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
