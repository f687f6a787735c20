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
# Run it in a worktree of the commit to measure (git worktree add DIR REV):
# the run takes about 40 minutes and reads the tree throughout.
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
# says so). A mutant that keeps a judge running past 2 minutes (the judges
# take 10 to 30 s) times out, which counts as caught. Exit codes: 2 = some
# mutants missed, 3 = some timed out.
common=(--workspace "${files[@]}" --no-shuffle -j 1 --timeout 120 --baseline skip
    --profile mutants)
# The sample, listed before anything runs: cargo-mutants copies the tree
# as it is when each phase starts, so the tree must not change until the
# script ends (a worktree of the commit measured is the safe place), and
# the names (with their line numbers) are taken from that same tree.
sample=$(cargo mutants "${common[@]}" --shard "$shard" --sharding round-robin --list)
# The swarm judge: two test targets of the simulator, built and run alone.
cargo mutants "${common[@]}" --shard "$shard" --sharding round-robin \
    --test-package holdfast-sim \
    --cargo-arg=--test=swarm_judge --cargo-arg=--test=properties \
    -o "$out/swarm" || true
# Everything: every test of core and the simulator. What the swarm caught,
# everything catches (the swarm is part of it), so only the rest of the
# sample is run, named one by one (cargo-mutants shards after its own
# filters, so --shard with --iterate would draw another sample).
done_by_swarm=$(cat "$out/swarm/mutants.out/caught.txt" "$out/swarm/mutants.out/timeout.txt" \
    "$out/swarm/mutants.out/unviable.txt" 2>/dev/null || true)
rest=$(grep -vxF -f <(printf '%s\n' "$done_by_swarm") <<<"$sample" || true)
rm -rf "$out/all"
mkdir -p "$out/all"
printf '%s\n' "$rest" >"$out/all/rest.txt"
if [ -n "$rest" ]; then
    mapfile -t only < <(python3 -c 'import re, sys
for line in sys.stdin:
    if line.strip():
        print("--re=^" + re.escape(line.rstrip("\n")) + "$")' <"$out/all/rest.txt")
    cargo mutants "${common[@]}" "${only[@]}" --test-package holdfast-core,holdfast-sim \
        -o "$out/all" || true
fi
# Counts within the sample (a name pattern may also match a mutant outside it).
count() {
    { cat "${@:2}" 2>/dev/null || true; } | { grep -xF -f <(printf '%s\n' "$1") || true; } |
        sort -u | wc -l
}
s="$out/swarm/mutants.out" a="$out/all/mutants.out"
score() {
    awk -v j="$1" -v c="$2" -v m="$3" -v t="$4" -v u="$5" -v s="$shard" \
        'BEGIN { n = c + m + t; printf "%s (shard %s): caught %d, missed %d, timed out %d, unviable %d: score %.1f %%\n", j, s, c, m, t, u, n ? 100 * (c + t) / n : 0 }'
}
unviable=$(count "$sample" "$s/unviable.txt" "$a/unviable.txt")
score swarm "$(count "$sample" "$s/caught.txt")" "$(count "$sample" "$s/missed.txt")" \
    "$(count "$sample" "$s/timeout.txt")" "$(count "$sample" "$s/unviable.txt")"
score all "$(count "$sample" "$s/caught.txt" "$a/caught.txt")" "$(count "$sample" "$a/missed.txt")" \
    "$(count "$sample" "$s/timeout.txt" "$a/timeout.txt")" "$unviable"
echo "missed by the swarm: $s/missed.txt; by everything: $a/missed.txt"
