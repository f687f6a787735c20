#!/usr/bin/env bash
# Runs the IPVS data plane's integration tests (tests/ipvs.rs) against a real
# kernel IPVS: inside User-Mode Linux, because the CI host's kernel has no
# IPVS and no modules. Debian's UML kernel (package user-mode-linux) boots in
# about 3 s with the host's / as its root through hostfs, read-only, so the
# test binaries run straight from target/ with nothing copied. The guest has
# no network device: every packet stays in namespaces inside it.
#
# The tests are #[ignore]d on the host (no IPVS there); the guest runs
# them with --include-ignored.
#
# Usage:
#   .ci/ipvs-uml.sh                  build `cargo test --test ipvs` and run it
#   .ci/ipvs-uml.sh BIN [BIN...]     run these test binaries (absolute paths)
# Environment:
#   TIMEOUT=300      wall-clock limit for the guest, seconds
#   MEM=384M         guest memory
#   TEST_ARGS=...    extra arguments for every test binary (a filter, --nocapture)
#   INSTALL=1        apt-get install the packages below when missing (0: fail)
# Exit status: the guest's (0 when every binary passed); 124 on timeout; 99
# when the guest never reported.
set -euo pipefail
cd "$(dirname "$0")/.."

TIMEOUT=${TIMEOUT:-300}
MEM=${MEM:-384M}
TEST_ARGS=${TEST_ARGS:-}
INSTALL=${INSTALL:-1}
# ipv6 is a module in the UML kernel; veth joins the test namespaces.
MODULES="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh \
ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos ipv6 veth nf_conntrack"
start=$(date +%s.%N)

need=()
[ -x /usr/bin/linux.uml ] || need+=(user-mode-linux)
command -v ipvsadm >/dev/null || need+=(ipvsadm)
command -v ip >/dev/null || need+=(iproute2)
command -v modprobe >/dev/null || need+=(kmod)
# A static busybox: poweroff -f from inside the guest.
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
    [ "$INSTALL" = 1 ] || { echo "missing packages: ${need[*]}" >&2; exit 2; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
        { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; }
fi

if [ $# -gt 0 ]; then
    bins=("$@")
else
    # The test harness executables cargo built (profile.test), one per line.
    mapfile -t bins < <(cargo test --no-run --message-format=json --test ipvs |
        grep '"reason":"compiler-artifact"' | grep -E '"profile":\{[^}]*"test":true' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')
fi
[ ${#bins[@]} -gt 0 ] || { echo "no test binary" >&2; exit 2; }
for b in "${bins[@]}"; do
    case "$b" in /*) ;; *) echo "not an absolute path: $b" >&2; exit 2 ;; esac
    [ -x "$b" ] || { echo "not executable: $b" >&2; exit 2; }
done

KV=$(ls /usr/lib/uml/modules | sort -V | tail -n 1)
WORK=$(mktemp -d /tmp/holdfast-ipvs-uml.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# modprobe -d wants DIR/lib/modules/VERSION.
mkdir -p "$WORK/mb/lib"
ln -s /usr/lib/uml/modules "$WORK/mb/lib/modules"

# The guest's init. / is the host's, read-only (so /tmp is too): /run and
# /var/tmp are tmpfs, /run/netns holds the tests' namespaces, TMPDIR points
# away from /tmp.
{
    echo '#!/bin/sh'
    echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/run TMPDIR=/var/tmp'
    echo 'mount -t proc proc /proc'
    echo 'mount -t sysfs sys /sys'
    echo 'mount -t tmpfs run /run'
    echo 'mount -t tmpfs vartmp /var/tmp'
    echo 'mkdir -p /run/netns'
    echo 'ip link set lo up'
    # Kernel messages (an expected refusal logs one) stay off the test output.
    echo 'dmesg -n 1 2>/dev/null || true'
    echo "for m in $MODULES; do"
    echo "    modprobe -d '$WORK/mb' -S '$KV' \$m 2>/dev/null || echo \"note: no module \$m in this kernel\""
    echo 'done'
    echo 'echo "GUEST_START uptime=$(cut -d" " -f1 /proc/uptime)"'
    echo 'cd /run'
    echo 'rc=0'
    for b in "${bins[@]}"; do
        printf 'echo "=== %s"\n' "$b"
        printf 'HOLDFAST_REQUIRE_IPVS=1 %q --include-ignored --test-threads=1 --color=never %s || { r=$?; [ $rc -ne 0 ] || rc=$r; }\n' "$b" "$TEST_ARGS"
    done
    echo 'echo "GUEST_RC=$rc uptime=$(cut -d" " -f1 /proc/uptime)"'
    echo '/bin/busybox poweroff -f'
} >"$WORK/init"
chmod +x "$WORK/init"

set +e
# con0=null,fd:1: the console is our stdout and reads nothing; no other
# consoles. ro: the host's / stays untouched.
timeout --foreground -k 5 "$TIMEOUT" /usr/bin/linux.uml mem="$MEM" \
    rootfstype=hostfs rootflags=/ ro init="$WORK/init" con=null con0=null,fd:1 quiet \
    </dev/null 2>&1 | tee "$WORK/console.log"
urc=${PIPESTATUS[0]}
set -e
elapsed=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
[ "$urc" != 124 ] || { echo "ipvs-uml: timed out after ${TIMEOUT}s" >&2; exit 124; }
rc=$(sed -n 's/.*GUEST_RC=\([0-9]*\).*/\1/p' "$WORK/console.log" | tail -n 1)
[ -n "$rc" ] || { echo "ipvs-uml: no GUEST_RC from the guest (linux.uml exit $urc)" >&2; exit 99; }
echo "ipvs-uml: guest exit status $rc, ${elapsed}s in all"
exit "$rc"
