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
# SHARD k/n runs the mutants i with i % n == k (round-robin, the same on
# every machine): a systematic sample, or the whole set over n runs. On
# 2 cores the swarm judge takes about 10 s a mutant, so shard 0/5 (160 of
# the 800) takes about half an hour.
#   bench/mutants.sh [SHARD] [OUT]     e.g. bench/mutants.sh 0/5 bench/mutants
# Prints each judge's caught / missed / unviable counts and score; the
# lists of missed mutants are in OUT/<judge>/mutants.out/missed.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
shard=${1:-0/1}
out=${2:-bench/mutants}
mkdir -p "$out/swarm"
files=(-f 'core/src/vrrp/*.rs' -f 'core/src/check/*.rs' -f 'core/src/lvs/*.rs'
    -f core/src/node/mod.rs -f core/src/node/members.rs
    -f core/src/node/track_script.rs -f core/src/node/pools.rs)
# The workspace's `mutants` profile (opt-level 1, no debug information):
# a mutant rebuilds in seconds and the swarm judge runs in about 5 s.
# The baseline would test only the mutated package (core), where the
# swarm judge does not live: it is skipped (the tests pass on main; CI
# says so). Exit codes: 2 = some mutants missed, 3 = some timed out.
common=(--workspace "${files[@]}" --shard "$shard" --sharding round-robin
    --no-shuffle -j 1 --timeout 300 --baseline skip --profile mutants)
# The swarm judge: two test targets of the simulator, built and run alone.
cargo mutants "${common[@]}" --test-package holdfast-sim \
    --cargo-arg=--test=swarm_judge --cargo-arg=--test=properties \
    -o "$out/swarm" || true
# Everything: every test of core and the simulator. What the swarm caught,
# everything catches (the swarm is part of it), so only the rest is run:
# --iterate skips the mutants the swarm's run caught or found unviable.
rm -rf "$out/all"
mkdir -p "$out/all"
cp -r "$out/swarm/mutants.out" "$out/all/"
cargo mutants "${common[@]}" --test-package holdfast-core,holdfast-sim --iterate \
    -o "$out/all" || true
count() { cat "$@" 2>/dev/null | sort -u | wc -l; }
for judge in swarm all; do
    dir="$out/$judge/mutants.out"
    caught=$(count "$dir/caught.txt" "$dir/previously_caught.txt")
    missed=$(count "$dir/missed.txt")
    timeout=$(count "$dir/timeout.txt")
    unviable=$(count "$dir/unviable.txt")
    awk -v j="$judge" -v c="$caught" -v m="$missed" -v t="$timeout" -v u="$unviable" -v s="$shard" \
        'BEGIN { n = c + m + t; printf "%s (shard %s): caught %d, missed %d, timed out %d, unviable %d: score %.1f %%\n", j, s, c, m, t, u, n ? 100 * (c + t) / n : 0 }'
done
echo "missed by the swarm: $out/swarm/mutants.out/missed.txt; by everything: $out/all/mutants.out/missed.txt"
