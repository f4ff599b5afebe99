"""The Python package's speed: `pycmarshal.loads` against CPython's `marshal.loads` and xdis, on the same
files, each building Python objects.

Usage: python benches/python_loads.py [--rounds N] [--xdis-rounds N] [--limit N]

Run it with an interpreter that has pycmarshal installed (`pip install .`) and, for the third column,
xdis. The files are that interpreter's own standard library caches as installed (`site-packages` left
out), read into memory first. Each round loads every file once with each reader in turn, so that the
three share the machine's state at the time and their ratios are measured side by side:

- `marshal.loads(data[16:])`: CPython's own reader, real code objects (the file's own version only);
- `pycmarshal.loads(data)`: header and body, `pycmarshal.Code` objects and Python values;
- `xdis.unmarshal.load_code(BytesIO(data[16:]), magic)`: xdis's own unmarshaller, its code objects:
  what uncompyle6, decompyle3 and pylingual load every version through (for a file of the running
  interpreter's own version, `xdis.load` calls `marshal.loads` instead; this times what it does for
  all the others).

Files xdis cannot read are left out of every column. Each reader's rounds are timed by wall clock and by this thread's CPU time (`time.thread_time`: what
the reader itself cost, whatever else the machine runs), with the garbage collector disabled, as
`timeit` does. xdis is slow, so it runs `--xdis-rounds` rounds (default 3) of the `--rounds` (default
7). The best round of each counts; the median is printed beside it. Prints a table for people, then a
`RESULT {json}` line.
"""

import argparse
import gc
import io
import json
import marshal
import os
import platform
import statistics
import sys
import sysconfig
import time

import pycmarshal


def stdlib_caches(limit):
    root = sysconfig.get_paths()["stdlib"]
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "site-packages")
        found.extend(os.path.join(folder, name) for name in sorted(names) if name.endswith(".pyc"))
    datas = []
    for path in found[:limit] if limit else found:
        with open(path, "rb") as f:
            datas.append(f.read())
    return datas


def readers(size):
    """The readers, each a function of a file's bytes, and whether xdis is there."""
    out = [
        ("marshal.loads", lambda data: marshal.loads(memoryview(data)[size:])),
        ("pycmarshal.loads", pycmarshal.loads),
    ]
    try:
        from xdis.unmarshal import load_code
    except ImportError:
        print("xdis is not installed: its column is left out", file=sys.stderr)
        return out

    def xdis(data):
        magic = data[0] | data[1] << 8
        return load_code(io.BytesIO(data[size:]), magic, {})

    out.append(("xdis", xdis))
    return out


def one_round(read, datas):
    """Wall and thread CPU seconds of one pass over every file."""
    wall, cpu = time.perf_counter(), time.thread_time()
    for data in datas:
        read(data)
    return time.perf_counter() - wall, time.thread_time() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--xdis-rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="the first N files only")
    args = parser.parse_args()
    datas = stdlib_caches(args.limit)
    size = pycmarshal.loads(datas[0]).header.size
    chosen = [(name, read) for name, read in readers(size) if name != "xdis" or args.xdis_rounds > 0]
    # Every file must load with every reader (the same files for all: those xdis fails on are left
    # out), and no round should pay for warming up.
    refused = 0
    for name, read in reversed(chosen):
        kept = []
        for data in datas:
            try:
                read(data)
                kept.append(data)
            except Exception:
                if name != "xdis":
                    raise
                refused += 1
        datas = kept
    times = dict((name, []) for name, _ in chosen)
    gc.disable()
    try:
        for round_number in range(args.rounds):
            for name, read in chosen:
                if name == "xdis" and round_number >= args.xdis_rounds:
                    continue
                times[name].append(one_round(read, datas))
    finally:
        gc.enable()
    python = "%s %s" % (platform.python_implementation(), platform.python_version())
    total = sum(len(data) for data in datas)
    left_out = " (%d more that xdis cannot read left out)" % refused if refused else ""
    print("%s, %d stdlib files, %.1f MB%s" % (python, len(datas), total / 1e6, left_out))
    print("%-18s %10s %10s %10s %10s %14s" % ("reader", "best wall", "median", "best CPU", "median",
                                              "vs marshal CPU"))
    base = min(cpu for _, cpu in times["marshal.loads"])
    result = {"python": python, "files": len(datas), "bytes": total, "xdis_cannot_read": refused,
              "readers": {}}
    for name, rounds in times.items():
        walls = [wall for wall, _ in rounds]
        cpus = [cpu for _, cpu in rounds]
        print("%-18s %9.3fs %9.3fs %9.3fs %9.3fs %13.2fx" % (
            name, min(walls), statistics.median(walls), min(cpus), statistics.median(cpus),
            min(cpus) / base))
        result["readers"][name] = {"wall_s": walls, "cpu_s": cpus, "best_cpu_ratio": min(cpus) / base}
    if "xdis" in times:
        ratio = min(cpu for _, cpu in times["xdis"]) / min(cpu for _, cpu in times["pycmarshal.loads"])
        print("pycmarshal.loads is %.1fx as fast as xdis (best CPU rounds)" % ratio)
        result["pycmarshal_vs_xdis"] = ratio
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
