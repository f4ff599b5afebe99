#!/usr/bin/env bash
# `pyc check --no-source` against a Python script that reads and marshal.loads every file
# (benches/check_marshal.py): both whole processes, same files, same run. Prints the ratio.
#
# Usage: benches/check_vs_python.sh [DIR]
#
# Without DIR it copies python3's standard library into target/pycmarshal-fixtures/check-stdlib-TAG
# once and compiles it there with compileall at optimization levels 0, 1 and 2 (the usual
# __pycache__ layout). Uses hyperfine when it is installed, else its own best-of-N timing.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
runs=${RUNS:-10}

dir=${1:-}
if [ -z "$dir" ]; then
  tag=$("$python" -c 'import sys; print(sys.implementation.cache_tag)')
  dir=target/pycmarshal-fixtures/check-stdlib-$tag
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
summary=$("$pyc" check --no-source --json "$dir" | tail -n 1 || true)
echo "files: $summary"
echo "python: $("$python" benches/check_marshal.py "$dir")"

rust_cmd="$pyc check --no-source $dir"
python_cmd="$python benches/check_marshal.py $dir"
if command -v hyperfine >/dev/null; then
  json=$(mktemp)
  # Exit status 1 (a problem found) is data, not a failure of the command.
  hyperfine --warmup 2 --runs "$runs" -i --export-json "$json" -N "$rust_cmd" "$python_cmd" >&2
  "$python" - "$json" <<'PY'
import json, sys
rust, python = json.load(open(sys.argv[1]))["results"]
print("pyc check --no-source: mean %.1f ms, median %.1f ms" % (rust["mean"] * 1e3, rust["median"] * 1e3))
print("python marshal.loads:  mean %.1f ms, median %.1f ms" % (python["mean"] * 1e3, python["median"] * 1e3))
print("ratio (python / pyc), by median: %.1fx" % (python["median"] / rust["median"]))
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
  echo "pyc check --no-source: best ${r}s; python marshal.loads: best ${p}s"
  echo "ratio (python / pyc), best of $runs: $(echo "scale=1; $p / $r" | bc)x"
fi
