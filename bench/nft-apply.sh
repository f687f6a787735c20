#!/usr/bin/env bash
# Time to program a large LVS table into nftables: one transaction for a
# 2,000-service table (4 real servers each; none, half, then all of the
# services persistent), then one
# weight change, a drift check and removal. Runs in a network namespace of
# its own (runtime/examples/nft_apply.rs does the work).
#
#   bench/nft-apply.sh [SERVICES] [REAL_SERVERS] [RUNS]   (root; needs nftables)
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-2000}
R=${2:-4}
RUNS=${3:-5}
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 2; }
command -v nft >/dev/null || { echo "needs nft (apt-get install nftables)"; exit 2; }
cargo build --release --quiet -p holdfast-runtime --example nft_apply
# Where cargo put the binaries (CARGO_TARGET_DIR, as .ci/run sets it, or ./target).
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
NS=hfnft$$
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
ip netns add "$NS"
for every in 0 2 1; do
    for ((i = 1; i <= RUNS; i++)); do
        ip netns exec "$NS" "$TARGET/release/examples/nft_apply" "$S" "$R" "$every"
    done
done
