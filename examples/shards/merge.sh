#!/bin/sh
# Fold the outputs of every shard (shard.sh) in $SHARD_OUT: one coverage table
# (merged.json, and the text on stdout) and one failure corpus (corpus/). Exit 1 when a shard
# had a failing run.
set -eu
OUT=${SHARD_OUT:-shards}
HINTSIM=${HINTSIM:-hintsim}
status=0
$HINTSIM merge --json "$OUT"/stress-*.json > "$OUT/merged.json" || status=$?
$HINTSIM merge "$OUT"/stress-*.json || true
corpora=$(ls -d "$OUT"/corpus-* 2>/dev/null || true)
if [ -n "$corpora" ]; then
  # shellcheck disable=SC2086
  $HINTSIM corpus merge $corpora --out "$OUT/corpus"
fi
exit "$status"
