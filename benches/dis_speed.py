"""Whole processes, side by side in one run: `pyc dis` against this interpreter's dis.dis (what
`python -m dis` prints, benches/dis_python.py) and xdis's `pydisasm` over the same compiled files, and
`pyc check --deep --no-source` against `pyc check --no-source` over the whole folder.

Usage: python3 benches/dis_speed.py [--rounds N] [--every K]

The files are the standard library `cargo bench --bench parse` compiles (built here the same way when
it is absent), every K-th file for the disassemblers (default 4: pydisasm is slow). The commands run
interleaved, N rounds (default 5); for each, the best and median wall time and the CPU time of the
child process (user + system, from wait4; this machine is shared, CPU time is the steadier figure).
"""
import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def stdlib_pycs():
    tag = sys.implementation.cache_tag
    folder = os.path.join(target_dir(), "tmp", "pycmarshal-fixtures", "bench-stdlib-" + tag)
    if not os.path.exists(os.path.join(folder, "done")):
        work = folder + ".tmp%d" % os.getpid()
        os.makedirs(work, exist_ok=True)
        subprocess.call([sys.executable, "-X", "pycache_prefix=" + work, "-m", "compileall", "-q",
                         "-j", "0", "-x", "site-packages|lib2to3/tests/data|bad",
                         sysconfig.get_paths()["stdlib"]],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        open(os.path.join(work, "done"), "w").close()
        try:
            os.rename(work, folder)
        except OSError:
            pass
    files = []
    for base, _, names in os.walk(folder):
        files.extend(os.path.join(base, n) for n in names if n.endswith(".pyc"))
    return folder, sorted(files)


def run(name, command):
    """Wall seconds and the child's CPU seconds (user + system); a command that fails is no figure."""
    start = time.perf_counter()
    with open(os.devnull, "w") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        error = child.stderr.read()
    if status != 0:
        sys.exit("%s failed (status %d): %s" % (name, status, error.decode(errors="replace")[-2000:]))
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=4)
    args = parser.parse_args()
    subprocess.check_call(["cargo", "build", "--release", "--quiet", "--bin", "pyc"], cwd=ROOT)
    pyc = os.path.join(target_dir(), "release", "pyc")
    folder, files = stdlib_pycs()
    sample = files[::args.every]
    commands = [("pyc dis", [pyc, "dis"] + sample),
                ("python dis.dis", [sys.executable, os.path.join(ROOT, "benches", "dis_python.py")] + sample)]
    pydisasm = subprocess.run(["which", "pydisasm"], capture_output=True, text=True).stdout.strip()
    if pydisasm:
        commands.append(("xdis pydisasm", [pydisasm] + sample))
    else:
        print("no pydisasm on PATH (pip install xdis): left out")
    commands += [("pyc check --no-source", [pyc, "check", "--no-source", folder]),
                 ("pyc check --deep --no-source", [pyc, "check", "--deep", "--no-source", folder]),
                 ("pyc check -j1 --no-source", [pyc, "check", "-j1", "--no-source", folder]),
                 ("pyc check -j1 --deep --no-source", [pyc, "check", "-j1", "--deep", "--no-source", folder])]
    times = dict((name, []) for name, _ in commands)
    for _ in range(args.rounds):
        for name, command in commands:
            times[name].append(run(name, command))
    print("%d files for the disassemblers (every %d-th of %d), %d rounds, %s" % (
        len(sample), args.every, len(files), args.rounds, sys.version.split()[0]))
    best = {}
    for name, _ in commands:
        walls, cpus = [t[0] for t in times[name]], [t[1] for t in times[name]]
        best[name] = (min(walls), min(cpus))
        print("%-34s wall best %8.1f ms, median %8.1f ms; CPU best %8.1f ms, median %8.1f ms" % (
            name, min(walls) * 1e3, statistics.median(walls) * 1e3, min(cpus) * 1e3,
            statistics.median(cpus) * 1e3))

    def ratio(a, b):
        print("%-46s %.1fx wall, %.1fx CPU" % (a + " / " + b + ":", best[a][0] / best[b][0], best[a][1] / best[b][1]))
    ratio("python dis.dis", "pyc dis")
    if pydisasm:
        ratio("xdis pydisasm", "pyc dis")
    ratio("pyc check --deep --no-source", "pyc check --no-source")
    ratio("pyc check -j1 --deep --no-source", "pyc check -j1 --no-source")


if __name__ == "__main__":
    main()
