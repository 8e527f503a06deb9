#!/usr/bin/env bash
# Record the behaviour a refactor must keep: a replay file for every race (hunted with its fix
# off in sim mode) and `run --mode sim --json` for a fixed set of seeds, hosts and workloads.
# test/golden.test.ts replays the files and compares the JSON (timing fields dropped).
# Re-record only when the model version changes (src/explore/replay_file.ts MODEL_VERSION).
set -euo pipefail
cd "$(dirname "$0")/.."
out=test/golden
mkdir -p "$out/replays" "$out/sim"
cli() { node --import tsx src/cli.ts "$@"; }
for id in $(cli races --json | node -e 'for (const r of JSON.parse(require("fs").readFileSync(0,"utf8"))) if (r.reproduced) console.log(r.id)'); do
  [ -f "$out/replays/$id.replay.json" ] && continue
  echo "golden: hunting $id" >&2
  cli hunt "$id" --no-shrink --no-corpus --seconds 300 --out "$out/replays/$id.replay.json" >/dev/null || { echo "golden: $id not found" >&2; exit 1; }
done
while read -r name args; do
  [ -z "$name" ] && continue
  # shellcheck disable=SC2086
  cli run $args --mode sim --json | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    delete r.seconds; delete r.ops_per_sec;
    process.stdout.write(JSON.stringify(r, null, 1) + "\n");' > "$out/sim/$name.json" || true
  echo "golden: $name" >&2
done < "$out/sim-runs.txt"
