#!/usr/bin/env bash
# Build the HTML report of a demo violation and screenshot it with headless Chromium, for
# people to look at: the race `hintsim demo` reproduces (free vs. discard) is hunted in sim
# mode, its report written with `hunt --html`, and the page photographed.
#
#   scripts/screenshot-report.sh [OUT.png] [RACE-ID]     (defaults: report.png, discard-get-page)
#
# The report and the replay file it names are kept beside the picture (OUT.html,
# OUT.replay.json), so the page's replay command works. Environment: CHROMIUM (the browser
# binary; default chromium on PATH), HEIGHT (window height in px, default 2000).
# Exit codes: 0 written, 1 the hunt found nothing, 2 no chromium or bad arguments.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-report.png}")
race=${2:-discard-get-page}
height=${HEIGHT:-2000}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [[ -z "$chromium" ]]; then
  echo "screenshot-report: no chromium on PATH; apt-get install chromium, or set CHROMIUM=/path/to/chrome" >&2
  exit 2
fi
[[ "$height" =~ ^[0-9]+$ ]] || { echo "screenshot-report: HEIGHT must be a number of pixels, not '$height'" >&2; exit 2; }

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
replay="${out%.png}.replay.json"
html="${out%.png}.html"

cd "$root"
echo "hunting $race in sim mode and writing its report ..." >&2
node --import tsx src/cli.ts hunt "$race" --seeds 200 --seconds 120 --shrink-seconds 3 --out "$replay" --html "$html" >&2 || {
  echo "screenshot-report: the hunt for $race found nothing; no report" >&2
  exit 1
}

# --disable-background-networking and friends: this machine has no network, and Chromium
# would otherwise keep trying to reach its update and sync services.
timeout 120 "$chromium" --headless --disable-gpu --no-sandbox --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --disable-default-apps --hide-scrollbars \
  --user-data-dir="$tmp/profile" --window-size="1280,$height" --virtual-time-budget=5000 \
  --screenshot="$out" "file://$html" 2>"$tmp/chromium.log" || {
  echo "screenshot-report: chromium failed; its log:" >&2
  tail -5 "$tmp/chromium.log" >&2
  exit 1
}
[[ -s "$out" ]] || { echo "screenshot-report: chromium wrote no screenshot" >&2; exit 1; }
echo "wrote $out (1280x$height) of $html (replay file $replay)"
