#!/usr/bin/env bash
# A 1,000-seed swarm sweep of the case study, one simulated hour per seed
# (the scenario's faults repeat every ten minutes), on two threads.
# Prints the sweep's own summary and the wall time. Target: under 60 s.
#   bench/sweep.sh [SEEDS] [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1000}
jobs=${2:-2}
cargo build --release --quiet
# Where cargo put the binaries (CARGO_TARGET_DIR, as .ci/run sets it, or ./target).
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
start=$(date +%s.%N)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$TARGET/release/holdfast" sweep scenarios/case-study.json --seeds "$seeds" --jobs "$jobs" --duration 3600 >"$out" || status=$?
end=$(date +%s.%N)
head -1 "$out"
tail -1 "$out"
awk -v s="$start" -v e="$end" -v n="$seeds" -v j="$jobs" \
    'BEGIN { printf "sweep: %d seeds x 3600 simulated s on %d thread(s): %.2f s wall\n", n, j, e - s }'
exit "$status"
