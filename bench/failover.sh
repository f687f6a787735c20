#!/usr/bin/env bash
# Failover on the wire: holdfast and keepalived, same topology, same run.
#
# Two directors (d1 priority 150, d2 priority 100; VRRPv2, advert_int 1,
# PASS) on a bridge in network namespaces; tcpdump on the bridge timestamps
# every advert and gratuitous ARP. For each daemon, N cycles of:
#   start d1 (it preempts d2), wait 1.5 s + a random 0-1 s, then
#   crash  (SIGKILL; for keepalived, its parent and VRRP child), or
#   stop   (SIGTERM),
# then let d2 take over and send both GARP bursts.
#
# Figures (ms, min / median / max):
#   crash: d1's last advert -> d2's first Master advert  (expected 3609.4)
#   stop:  signal -> d1's priority-0 advert; priority 0 -> d2's advert (609.4)
#   GARP:  d2's first advert -> its first GARP; first -> second burst (5000)
#   start: d1 exec -> its IGMP join (its VRRP socket open), and -> its
#          first advert when it preempts (3414.1 + start-up)
#
#   bench/failover.sh [N]      (root; needs iproute2, tcpdump, keepalived)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
for tool in ip tcpdump keepalived; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)"; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 2; }
cargo build --release --quiet
# Where cargo put the binaries (CARGO_TARGET_DIR, as .ci/run sets it, or ./target).
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
BIN=$TARGET/release/holdfast
P=hfb$$
W=$(mktemp -d)
TCPDUMP=
cleanup() {
    [ -n "$TCPDUMP" ] && kill "$TCPDUMP" 2>/dev/null
    pkill -f "$W/" 2>/dev/null || true
    for ns in $P-d1 $P-d2 $P-sw; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

ip netns add $P-sw
ip -n $P-sw link add br0 type bridge forward_delay 0 mcast_snooping 0
ip -n $P-sw link set br0 up
for n in 1 2; do
    ip netns add $P-d$n
    ip link add $P-v$n type veth peer name eth0 netns $P-d$n
    ip link set $P-v$n netns $P-sw
    ip -n $P-sw link set $P-v$n master br0 up
    ip -n $P-d$n link set eth0 up
    ip -n $P-d$n link set lo up
    ip -n $P-d$n addr add 10.200.0.$n/24 dev eth0
done
conf() { # state priority
    cat <<EOF
vrrp_instance VI_1 {
    state $1
    interface eth0
    virtual_router_id 51
    priority $2
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass k@l!ve1
    }
    virtual_ipaddress {
        10.200.0.10/24
    }
}
EOF
}
conf MASTER 150 >"$W/d1.conf"
conf BACKUP 100 >"$W/d2.conf"

ip netns exec $P-sw tcpdump -i br0 -n -tt -l 'ip proto 112 or arp or igmp' >"$W/wire.txt" 2>/dev/null &
TCPDUMP=$!
sleep 1

start() { # impl host -> pid
    local impl=$1 host=$2
    if [ "$impl" = holdfast ]; then
        ip netns exec $P-$host "$BIN" run -f "$W/$host.conf" --dump "$W/$host.json" \
            >>"$W/$impl-$host.log" 2>&1 &
    else
        ip netns exec $P-$host keepalived -n -l -D -G -P -f "$W/$host.conf" -p "$W/$host.pid" \
            -r "$W/$host-vrrp.pid" -c "$W/$host-chk.pid" -b "$W/$host-bfd.pid" \
            >>"$W/$impl-$host.log" 2>&1 &
    fi
    echo $!
}
holds() { ip -n $P-$1 -4 -o addr show dev eth0 | grep -q ' 10.200.0.10/'; }
wait_holds() { for _ in $(seq 1 400); do holds "$1" && return 0; sleep 0.025; done; return 1; }

for impl in holdfast keepalived; do
    d2=$(start $impl d2)
    sleep 4.5
    for i in $(seq 1 "$N"); do
        kind=crash; [ $((i % 2)) = 0 ] && kind=stop
        echo "$impl start $EPOCHREALTIME" >>"$W/events.txt"
        d1=$(start $impl d1)
        wait_holds d1 || { echo "d1 did not become Master"; exit 1; }
        sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 1.5 + r / 32768 }')"
        if [ $kind = crash ]; then
            child=$(cat "$W/d1-vrrp.pid" 2>/dev/null || true)
            echo "$impl crash $EPOCHREALTIME" >>"$W/events.txt"
            kill -9 "$d1" ${child:+"$child"} 2>/dev/null || true
        else
            echo "$impl stop $EPOCHREALTIME" >>"$W/events.txt"
            kill -TERM "$d1"
        fi
        wait "$d1" 2>/dev/null || true
        # A crash leaves the address (kernel state); the next start would
        # remove it, but it must not count as d1 being Master again.
        ip -n $P-d1 addr del 10.200.0.10/24 dev eth0 2>/dev/null || true
        wait_holds d2 || { echo "d2 did not take over"; exit 1; }
        sleep 6 # the second GARP burst at +5 s
    done
    kill -TERM "$d2"; wait "$d2" 2>/dev/null || true
    ip -n $P-d2 addr del 10.200.0.10/24 dev eth0 2>/dev/null || true
    sleep 1
done
sleep 1
kill "$TCPDUMP" 2>/dev/null || true
TCPDUMP=
# Keep the raw data beside the build, to re-read or plot.
OUT=target/bench-failover
mkdir -p "$OUT"
cp "$W/wire.txt" "$W/events.txt" "$OUT/"

# The figures, from the wire and the event times.
python3 - "$OUT/wire.txt" "$OUT/events.txt" <<'PY'
import re, statistics, sys
wire = []
for line in open(sys.argv[1]):
    try:
        t = float(line.split()[0])
    except (IndexError, ValueError):
        continue
    m = re.search(r'IP (\S+) > \S+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)', line)
    if m:
        wire.append((t, 'adv', m.group(1), int(m.group(3))))
    elif 'ARP, Request who-has 10.200.0.10' in line and 'tell 10.200.0.10' in line:
        wire.append((t, 'garp', None, None))
    elif re.search(r'IP 10\.200\.0\.1 > \S+: igmp', line):
        wire.append((t, 'join', '10.200.0.1', None))
events = [l.split() for l in open(sys.argv[2])]
fig = {}
def add(impl, name, v):
    fig.setdefault((impl, name), []).append(v * 1000)
for k, (impl, kind, t) in enumerate(events):
    t = float(t)
    end = float(events[k + 1][2]) if k + 1 < len(events) else 1e18
    after = [w for w in wire if t <= w[0] < end]
    if kind == 'start':
        first = next((w for w in after if w[1] == 'adv' and w[2] == '10.200.0.1' and w[3] > 0), None)
        if first: add(impl, 'start: exec -> first advert (preempt)', first[0] - t)
        join = next((w for w in after if w[1] == 'join'), None)
        if join: add(impl, 'start: exec -> IGMP join (sockets open)', join[0] - t)
        continue
    d2 = next((w for w in after if w[1] == 'adv' and w[2] == '10.200.0.2'), None)
    if not d2: continue
    before = [w for w in wire if w[0] < d2[0] and w[1] == 'adv' and w[2] == '10.200.0.1']
    if kind == 'crash':
        last = max(w[0] for w in before if w[3] > 0)
        add(impl, 'crash: last advert -> new Master advert', d2[0] - last)
    else:
        zero = next((w for w in after if w[1] == 'adv' and w[2] == '10.200.0.1' and w[3] == 0), None)
        if zero:
            add(impl, 'stop: signal -> priority-0 advert', zero[0] - t)
            add(impl, 'stop: priority 0 -> new Master advert', d2[0] - zero[0])
    garps = [w[0] for w in after if w[1] == 'garp' and w[0] >= d2[0]]
    if garps:
        add(impl, 'GARP: new Master advert -> first GARP', garps[0] - d2[0])
        second = [g for g in garps if g - garps[0] > 1]
        if second: add(impl, 'GARP: first burst -> second burst', second[0] - garps[0])
print(f"{'daemon':<11} {'figure (ms)':<42} {'n':>3} {'min':>9} {'median':>9} {'max':>9}")
for (impl, name), v in sorted(fig.items(), key=lambda x: (x[0][1], x[0][0])):
    print(f"{impl:<11} {name:<42} {len(v):>3} {min(v):9.1f} {statistics.median(v):9.1f} {max(v):9.1f}")
PY
