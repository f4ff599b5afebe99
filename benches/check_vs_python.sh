#!/usr/bin/env bash
# `pyc check --no-source` against a Python script that reads and marshal.loads every file
# (benches/check_marshal.py): both whole processes, same files, same run. Prints the ratio, and the
# ceiling of that ratio: the script against benches/read_floor.rs, which only walks and reads the files.
# Then pyc check against that floor (issue 12's goal: within 1.3x), beside the floor of any checker
# that also steps over every object (read_floor --skim, which reads and skims each body) and reading
# with the body check pyc check makes (read_floor --validate).
#
# Usage: benches/check_vs_python.sh [DIR]
#
# Without DIR it copies python3's standard library into ${CARGO_TARGET_DIR:-target}/tmp/pycmarshal-fixtures/check-stdlib-TAG
# once and compiles it there with compileall at optimization levels 0, 1 and 2 (the usual
# __pycache__ layout). Uses hyperfine when it is installed, else its own best-of-N timing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
runs=${RUNS:-10}

dir=${1:-}
if [ -z "$dir" ]; then
  tag=$("$python" -c 'import sys; print(sys.implementation.cache_tag)')
  dir=${CARGO_TARGET_DIR:-target}/tmp/pycmarshal-fixtures/check-stdlib-$tag
  if [ ! -e "$dir/done" ]; then
    stdlib=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    echo "copying $stdlib and compiling it (once)..." >&2
    (cd "$stdlib" && tar --exclude=site-packages --exclude=__pycache__ -cf - .) | tar -xf - -C "$dir.tmp"
    # compileall exits 1 for the test files that fail to compile on purpose; what it wrote is fine.
    "$python" -m compileall -q -j 0 -o 0 -o 1 -o 2 "$dir.tmp" >/dev/null 2>&1 || true
    touch "$dir.tmp/done"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
fi

cargo build --release --quiet --bin pyc
pyc=${CARGO_TARGET_DIR:-target}/release/pyc
floor=$(cargo bench --bench read_floor --no-run 2>&1 | sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -n 1)
[ -x "$floor" ] || { echo "cannot find the read_floor bench binary" >&2; exit 1; }
summary=$("$pyc" check --no-source --json "$dir" | tail -n 1 || true)
echo "files: $summary"
echo "python: $("$python" benches/check_marshal.py "$dir")"

rust_cmd="$pyc check --no-source $dir"
python_cmd="$python benches/check_marshal.py $dir"
floor_cmd="$floor $dir"
skim_cmd="$floor --skim $dir"
validate_cmd="$floor --validate $dir"
if command -v hyperfine >/dev/null; then
  json=$(mktemp)
  # Exit status 1 (a problem found) is data, not a failure of the command.
  hyperfine --warmup 2 --runs "$runs" -i --export-json "$json" -N "$rust_cmd" "$python_cmd" "$floor_cmd" "$skim_cmd" "$validate_cmd" >&2
  "$python" - "$json" <<'PY'
import json, sys
rust, python, floor, skim, validate = json.load(open(sys.argv[1]))["results"]
for name, r in [("pyc check --no-source", rust), ("python marshal.loads", python), ("reading alone (floor)", floor), ("reading and skimming", skim), ("reading and validating", validate)]:
    print("%-22s best %.1f ms, median %.1f ms" % (name + ":", r["min"] * 1e3, r["median"] * 1e3))
# Interference only adds time, so the best runs are the steadiest comparison; medians beside them.
print("ratio (python / pyc): %.1fx by best, %.1fx by median" % (python["min"] / rust["min"], python["median"] / rust["median"]))
print("ceiling (python / reading alone): %.1fx by best, %.1fx by median" % (python["min"] / floor["min"], python["median"] / floor["median"]))
print("pyc check / reading alone: %.2fx by best, %.2fx by median (goal 1.3x)" % (rust["min"] / floor["min"], rust["median"] / floor["median"]))
print("reading and skimming / reading alone: %.2fx by best, %.2fx by median (no checker goes below)" % (skim["min"] / floor["min"], skim["median"] / floor["median"]))
print("reading and validating / reading alone: %.2fx by best, %.2fx by median" % (validate["min"] / floor["min"], validate["median"] / floor["median"]))
PY
  rm -f "$json"
else
  best() {
    local best=
    for _ in $(seq "$runs"); do
      local start end t
      start=$(date +%s.%N)
      $1 >/dev/null 2>&1 || true
      end=$(date +%s.%N)
      t=$(echo "$end - $start" | bc)
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "$best"
  }
  r=$(best "$rust_cmd")
  p=$(best "$python_cmd")
  f=$(best "$floor_cmd")
  s=$(best "$skim_cmd")
  v=$(best "$validate_cmd")
  echo "pyc check --no-source: best ${r}s; python marshal.loads: best ${p}s; reading alone: best ${f}s; reading and skimming: best ${s}s; reading and validating: best ${v}s"
  echo "ratio (python / pyc), best of $runs: $(echo "scale=1; $p / $r" | bc)x"
  echo "ceiling (python / reading alone), best of $runs: $(echo "scale=1; $p / $f" | bc)x"
  echo "pyc check / reading alone, best of $runs: $(echo "scale=2; $r / $f" | bc)x (goal 1.3x)"
  echo "reading and skimming / reading alone, best of $runs: $(echo "scale=2; $s / $f" | bc)x (no checker goes below)"
  echo "reading and validating / reading alone, best of $runs: $(echo "scale=2; $v / $f" | bc)x"
fi
