#!/usr/bin/env bash
# Times `holdfast check` and `keepalived -t` on the same generated file:
# 2,000 virtual servers x 4 real servers, HTTP_GET and TCP_CHECK mixed
# (holdfast_core::config::synthetic::lvs_config). Prints wall time (median
# of N runs, whole process) and peak RSS for each.
#
#   bench/parse-vs-keepalived.sh [--quick] [VIRTUAL_SERVERS [REAL_SERVERS]]
#
# The in-process figure for the parser alone is `cargo bench -p holdfast-core`.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=21
if [ "${1:-}" = "--quick" ]; then runs=3; shift; fi
vs=${1:-2000}
rs=${2:-4}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
conf="$work/lvs-${vs}x${rs}.conf"

cargo build -q --release --bin holdfast
# Where cargo put the binaries (CARGO_TARGET_DIR, as .ci/run sets it, or ./target).
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
bin=$TARGET/release/holdfast
cargo run -q --release -p holdfast-core --example gen_config -- "$vs" "$rs" > "$conf"
echo "file: ${vs} virtual servers x ${rs} real servers, $(wc -l < "$conf") lines, $(wc -c < "$conf") bytes"
# Once outside the timing, where a failure stops the script: the timed runs
# discard their status (keepalived -t exits non-zero for host interfaces).
"$bin" check -f "$conf" >/dev/null

# Median wall time in ms over $runs runs of a command (output discarded).
median_ms() {
    local times=()
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        times+=( $(( (t1 - t0) / 1000 )) )
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

peak_kb() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
    else
        echo "n/a"
    fi
}

printf '%-28s %12s %12s\n' "command" "median ms" "peak RSS KB"
printf '%-28s %12s %12s\n' "holdfast check" "$(median_ms "$bin" check -f "$conf")" \
    "$(peak_kb "$bin" check -f "$conf")"
if command -v keepalived >/dev/null 2>&1; then
    printf '%-28s %12s %12s\n' "keepalived -t ($(keepalived -v 2>&1 | head -1 | awk '{print $2}'))" \
        "$(median_ms keepalived -t -f "$conf")" "$(peak_kb keepalived -t -f "$conf")"
else
    echo "keepalived is not installed (apt-get install keepalived): no comparison"
fi
