#!/usr/bin/env bash
# Mutation testing of the failover logic with cargo-mutants
# (`cargo install cargo-mutants --locked`). The mutants are core's VRRP
# (core/src/vrrp), checkers (core/src/check), LVS table (core/src/lvs),
# sync groups and trackers (core/src/node/{mod,members,track_script,
# pools}.rs). Each is judged twice:
#   swarm: the simulator's swarm and property tests alone
#          (sim/tests/swarm_judge.rs, sim/tests/properties.rs), no unit or
#          fixed-scenario test;
#   all:   every test of core and the simulator.
# The whole set (796 mutants) takes many hours on 2 cores: SHARD k/n runs
# the mutants i with i % n == k (round-robin, the same on every machine),
# so a sample, or the whole set over several runs, can be taken.
#   bench/mutants.sh [SHARD] [OUT]     e.g. bench/mutants.sh 0/5 bench/mutants
# Prints each judge's caught / missed / unviable counts and score; the
# lists of missed mutants are in OUT/<judge>/mutants.out/missed.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
shard=${1:-0/1}
out=${2:-bench/mutants}
mkdir -p "$out/swarm" "$out/all"
files=(-f 'core/src/vrrp/*.rs' -f 'core/src/check/*.rs' -f 'core/src/lvs/*.rs'
    -f core/src/node/mod.rs -f core/src/node/members.rs
    -f core/src/node/track_script.rs -f core/src/node/pools.rs)
common=(--workspace "${files[@]}" --shard "$shard" --sharding round-robin
    --no-shuffle -j 1 --timeout 600 --baseline skip)
# The baseline would test only the mutated package (core), where the
# swarm judge does not live: it is skipped (the tests pass on main; CI
# says so). Exit codes: 2 = some mutants missed, 3 = some timed out.
# The swarm judge is two test targets of the workspace (`cargo test
# --workspace --test swarm_judge --test properties`); the other judge is
# every test of core and the simulator.
cargo mutants "${common[@]}" --test-workspace true -o "$out/swarm" \
    -- --test swarm_judge --test properties || true
cargo mutants "${common[@]}" --test-package holdfast-core,holdfast-sim -o "$out/all" || true
for judge in swarm all; do
    dir="$out/$judge/mutants.out"
    caught=$(wc -l < "$dir/caught.txt" 2>/dev/null || echo 0)
    missed=$(wc -l < "$dir/missed.txt" 2>/dev/null || echo 0)
    timeout=$(wc -l < "$dir/timeout.txt" 2>/dev/null || echo 0)
    unviable=$(wc -l < "$dir/unviable.txt" 2>/dev/null || echo 0)
    awk -v j="$judge" -v c="$caught" -v m="$missed" -v t="$timeout" -v u="$unviable" -v s="$shard" \
        'BEGIN { n = c + m + t; printf "%s (shard %s): caught %d, missed %d, timed out %d, unviable %d: score %.1f %%\n", j, s, c, m, t, u, n ? 100 * (c + t) / n : 0 }'
done
