"""CPython's dis.get_instructions over every code object of the files in LIST: the baseline of
benches/bytecode.rs. Loading the files is outside the timing; each round walks every code object's
instructions with the garbage collector off; the best of ROUNDS counts, in wall time and thread CPU
time (time.thread_time).

Usage: python3 benches/dis_decode.py LIST ROUNDS

Prints one line for people and one `RESULT {json}` line for benches/bytecode.rs.
"""
import dis
import gc
import importlib.util
import json
import marshal
import sys
import time

CodeType = type(compile("0", "", "eval"))


def walk(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from walk(const)


def main(list_path, rounds):
    codes = []
    with open(list_path) as f:
        paths = [line for line in f.read().split("\n") if line]
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != importlib.util.MAGIC_NUMBER:
            continue
        codes.extend(walk(marshal.loads(data[16:])))
    count = sum(1 for code in codes for _ in dis.get_instructions(code))
    walls, cpus = [], []
    gc.disable()
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.thread_time()
        for code in codes:
            for _ in dis.get_instructions(code):
                pass
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    gc.enable()
    print("CPython %s dis.get_instructions: %d code objects, %d instructions: best %.1f ms wall, "
          "%.1f ms thread CPU (%.1f ns an instruction)" % (
              sys.version.split()[0], len(codes), count, min(walls) * 1e3, min(cpus) * 1e3,
              min(cpus) * 1e9 / count))
    print("RESULT " + json.dumps({"instructions": count, "wall": min(walls), "cpu": min(cpus)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
