#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) on the nightly toolchain, seeded from corpus/, and fails
# on the first crash. Installs cargo-fuzz when it is missing. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse roundtrip truncate header infer print normalize bytecode)
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain here; skipping the fuzz smoke run (the stable tests still run the targets' bodies over corpus/)"
  exit 0
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "== fuzz $target for ${seconds}s"
  log="fuzz/$target.log"
  status=0
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" corpus/pyc corpus/marshal -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 \
    || status=$?
  grep -E '^(INFO: seed corpus|Done|stat::number_of_executed_units|stat::peak_rss|SUMMARY)|panicked' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
    echo "fuzz: $target failed (exit $status); the input is in fuzz/artifacts/$target/"
    exit 1
  fi
done
