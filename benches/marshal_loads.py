"""CPython's own speed on the bytes `cargo bench --bench parse` reads: the baseline of its ratios.

Usage: python3 benches/marshal_loads.py LIST [--rounds N]

LIST has one line per file, `HEADER_SIZE<TAB>PATH`, written by benches/parse.rs. The script reads every
file into memory, checks that its magic is this interpreter's (so `marshal.loads` reads its own
dialect), cuts the header off exactly as the Rust side does (HEADER_SIZE bytes: 16 for 3.7+, 12 for
3.3-3.6, 8 before) and checks that this agrees with its own rule, then times one `marshal.loads` of every
body per round, N rounds (default 15) with the garbage collector disabled, as timeit does, by wall clock
and by the thread's CPU time (`time.thread_time`: on a shared machine, the steadier of the two).
Reading the files and cutting the headers are outside the timing.

It prints one line for people and, last, one `RESULT {json}` line for benches/parse.rs: the interpreter,
the file count, the body bytes, the best and median round in seconds, MB/s (10^6 bytes per second) of
the best round, and every round's wall time (`times_s`) and CPU time (`cpu_s`).

Python 3 only; it needs nothing outside the standard library.
"""

import argparse
import gc
import importlib.util
import json
import marshal
import platform
import statistics
import sys
import time


def header_size():
    """The size of the .pyc header this interpreter writes."""
    if sys.version_info >= (3, 7):
        return 16
    if sys.version_info >= (3, 3):
        return 12
    return 8


def load_bodies(list_path):
    expected = header_size()
    magic = importlib.util.MAGIC_NUMBER
    bodies = []
    with open(list_path, encoding="utf-8") as listing:
        for line in listing:
            line = line.rstrip("\n")
            if not line:
                continue
            size, path = line.split("\t", 1)
            size = int(size)
            if size != expected:
                sys.exit(f"{path}: header of {size} bytes, but {platform.python_version()} writes {expected}")
            with open(path, "rb") as f:
                data = f.read()
            if data[:4] != magic:
                sys.exit(f"{path}: magic {data[:4].hex()} is not this interpreter's {magic.hex()}")
            bodies.append(data[size:])
    return bodies


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("list", help="file list written by benches/parse.rs")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds; the best counts")
    args = parser.parse_args()

    bodies = load_bodies(args.list)
    total = sum(len(body) for body in bodies)
    loads = marshal.loads
    for body in bodies:  # every body must load, and the first round should not pay for warming up
        loads(body)

    def one_round():
        for body in bodies:
            loads(body)

    times, cpu = [], []
    gc.disable()
    try:
        for _ in range(args.rounds):
            start, start_cpu = time.perf_counter(), time.thread_time()
            one_round()
            cpu.append(time.thread_time() - start_cpu)
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    best = min(times)
    median = statistics.median(times)
    python = f"{platform.python_implementation()} {platform.python_version()}"
    mb_s = total / best / 1e6
    print(
        f"{python} marshal.loads: {len(bodies)} files, {total} body bytes, "
        f"best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms of {args.rounds} rounds: {mb_s:.0f} MB/s"
    )
    result = {
        "python": python,
        "files": len(bodies),
        "bytes": total,
        "best_s": best,
        "median_s": median,
        "rounds": args.rounds,
        "mb_s": mb_s,
        "times_s": times,
        "cpu_s": cpu,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
