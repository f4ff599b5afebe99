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
# __pycache__ layout). benches/time_commands.py times the commands, interleaved, RUNS rounds (10
# unless set): wall clock and CPU time, best and median.
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

# Interference only adds time, so the best runs are the steadiest comparison; medians beside them.
"$python" benches/time_commands.py "$runs" \
  "pyc=$pyc check --no-source $dir" \
  "python=$python benches/check_marshal.py $dir" \
  "read=$floor $dir" \
  "read+skim=$floor --skim $dir" \
  "read+validate=$floor --validate $dir" \
  -- "python/pyc" "python/read:(the ceiling of python / pyc)" "pyc/read:(goal 1.3x)" \
  "read+skim/read:(no checker goes below)" "read+validate/read:(the body check pyc check makes)"
