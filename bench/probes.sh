#!/usr/bin/env bash
# CPU cost of health checking: holdfast probing 5,000 real servers every
# second (delay_loop 1), all on local listeners, in a network namespace of
# its own. One run with TCP_CHECK, one with HTTP_GET (with a digest). The
# real servers are one listener (runtime/examples/http_sink.rs) on every
# address of 127.0.0.0/8; it counts the connections it accepts.
#
# Prints, per checker: probes in the window, holdfast's CPU seconds (user +
# system, from /proc/PID/stat) and CPU seconds per 1,000 probes.
#
#   bench/probes.sh [SECONDS] [REAL_SERVERS]     (root; needs iproute2)
set -euo pipefail
cd "$(dirname "$0")/.."
WINDOW=${1:-20}
N=${2:-5000}
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 2; }
cargo build --release --quiet
cargo build --release --quiet -p holdfast-runtime --example http_sink
# Where cargo put the binaries (CARGO_TARGET_DIR, as .ci/run sets it, or ./target).
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$TARGET/release/holdfast
SINK=$TARGET/release/examples/http_sink
NS=hfprobe$$
W=$(mktemp -d)
cleanup() {
    [ -n "${HF:-}" ] && kill "$HF" 2>/dev/null
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
    wait 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
TICK=$(getconf CLK_TCK)

config() { # checker: TCP or HTTP
    echo "global_defs { router_id probe-bench }"
    local per=4 vs=$((N / 4)) i r
    for ((i = 0; i < vs; i++)); do
        echo "virtual_server 10.$((i / 250)).$((i % 250)).1 80 {"
        echo "  delay_loop 1"
        echo "  lb_algo wrr"
        echo "  lb_kind NAT"
        echo "  protocol TCP"
        for ((r = 0; r < per; r++)); do
            local n=$((i * per + r))
            echo "  real_server 127.$((n / 62500 + 1)).$(((n / 250) % 250)).$((n % 250 + 1)) 8080 {"
            if [ "$1" = TCP ]; then
                echo "    TCP_CHECK { connect_timeout 2 }"
            else
                # MD5 of "ok", the sink's body.
                echo "    HTTP_GET { url { path / digest 444bcb3a3fcf8389296c49467f27e1d6 } connect_timeout 2 }"
            fi
            echo "  }"
        done
        echo "}"
    done
}

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # checker
    config "$1" >"$W/$1.conf"
    ip netns exec "$NS" "$SINK" 8080 >"$W/sink.out" &
    SRV=$!
    sleep 0.3
    ip netns exec "$NS" "$BIN" run -f "$W/$1.conf" --data-plane none --dump "$W/dump.json" \
        --log warn 2>"$W/$1.log" &
    HF=$!
    # The first checks spread over one delay_loop (warmup); let them settle.
    sleep 5
    local pid
    pid=$(pgrep -P "$HF" holdfast || echo "$HF")
    kill -USR1 "$SRV"; sleep 0.1
    local c0 p0 c1 p1
    c0=$(cpu "$pid"); p0=$(tail -1 "$W/sink.out")
    sleep "$WINDOW"
    c1=$(cpu "$pid"); kill -USR1 "$SRV"; sleep 0.1; p1=$(tail -1 "$W/sink.out")
    local probes=$((p1 - p0))
    awk -v c="$((c1 - c0))" -v t="$TICK" -v p="$probes" -v k="$1" -v n="$N" -v w="$WINDOW" 'BEGIN {
        s = c / t
        printf "%-9s %d real servers, delay_loop 1 s, %d s: %d probes (%.0f/s), %.2f CPU s, %.4f CPU s per 1,000 probes\n",
            k "_CHECK:", n, w, p, p / w, s, s * 1000 / p }' | sed 's/HTTP_CHECK/HTTP_GET/'
    if grep -q "down" "$W/$1.log"; then
        echo "  (some real servers went down during the run: $(grep -c down "$W/$1.log") log lines)"
    fi
    kill "$HF" "$SRV"; wait "$HF" "$SRV" 2>/dev/null || true
    HF= SRV=
}

run TCP
run HTTP
