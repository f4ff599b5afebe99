"""Times whole commands side by side: wall clock and CPU time (user + system, of the process and its
threads, from wait4), interleaved round by round so that a noisy neighbour slows all of them alike.

Usage: python3 benches/time_commands.py RUNS NAME=COMMAND... [-- RATIO...]

Each COMMAND is split on spaces and run with its output discarded; an exit status other than 0 or 1
(1 is "problems found", which is data) stops the bench. Prints each command's best and median wall
and CPU time, then each RATIO, written `A/B` with two NAMEs, or `A/B:LABEL` to print LABEL after it:
the ratio of A's times to B's, by best and by median, wall and CPU.
"""

import os
import statistics
import subprocess
import sys
import time


def run(argv):
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit("%s exited with %d" % (" ".join(argv), code))
    return wall, usage.ru_utime + usage.ru_stime


def main(args):
    runs = int(args[0])
    rest = args[1:]
    ratios = []
    if "--" in rest:
        at = rest.index("--")
        rest, ratios = rest[:at], rest[at + 1 :]
    commands = [spec.split("=", 1) for spec in rest]
    times = {name: [] for name, _ in commands}
    for name, command in commands:  # one warm-up each: page cache, binaries
        run(command.split())
    for _ in range(runs):
        for name, command in commands:
            times[name].append(run(command.split()))

    def best(name, which):
        return min(t[which] for t in times[name])

    def median(name, which):
        return statistics.median(t[which] for t in times[name])

    width = max(len(name) for name in times) + 1
    print("%-*s %24s %24s" % (width, "best of %d" % runs, "wall: best, median", "CPU: best, median"))
    for name in times:
        print(
            "%-*s %11.1f ms %9.1f ms %11.1f ms %9.1f ms"
            % (width, name + ":", best(name, 0) * 1e3, median(name, 0) * 1e3, best(name, 1) * 1e3, median(name, 1) * 1e3)
        )
    for spec in ratios:
        pair, _, label = spec.partition(":")
        a, b = pair.split("/")
        print(
            "%s / %s: wall %.2fx by best, %.2fx by median; CPU %.2fx by best, %.2fx by median%s"
            % (
                a,
                b,
                best(a, 0) / best(b, 0),
                median(a, 0) / median(b, 0),
                best(a, 1) / best(b, 1),
                median(a, 1) / median(b, 1),
                " " + label if label else "",
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
