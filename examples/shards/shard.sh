#!/bin/sh
# One shard of a distributed stress run: shard K of N (K is 0-based: a Kubernetes Indexed
# Job's JOB_COMPLETION_INDEX, a CI matrix entry). Each shard runs its own seed (SEED_BASE + K)
# and leaves in $SHARD_OUT: stress-K.json (hintsim stress --json), replays-K/ (replay files of
# its failures) and corpus-K/ (its failure corpus). merge.sh folds the shards' outputs.
#   SHARD_OPS   sim-mode op budget of the shard (default 2000000)
#   SEED_BASE   seed of shard 0 (default 1000)
#   SHARD_OUT   output directory (default shards)
#   HINTSIM     how to run hintsim (default: hintsim)
set -eu
K=${1:?usage: shard.sh K}
OUT=${SHARD_OUT:-shards}
HINTSIM=${HINTSIM:-hintsim}
mkdir -p "$OUT"
status=0
$HINTSIM stress --mode sim --ops "${SHARD_OPS:-2000000}" --seed $(( ${SEED_BASE:-1000} + K )) --jobs "${SHARD_JOBS:-2}" \
  --json --quiet --out "$OUT/replays-$K" --corpus "$OUT/corpus-$K" > "$OUT/stress-$K.json" || status=$?
# exit 1 means the shard found failures: its JSON and replay files are the result, not an error
[ "$status" -le 1 ] || exit "$status"
