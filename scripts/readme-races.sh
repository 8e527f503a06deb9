#!/usr/bin/env bash
# Regenerate the race table in README.md from `hintsim races --markdown` (the catalogue is the
# source of truth; the README shows what the CLI prints).
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(node --import tsx src/cli.ts races --markdown)
TABLE="$table" node -e '
const fs = require("fs");
const text = fs.readFileSync("README.md", "utf8");
const head = "## The race catalogue (`hintsim races --markdown`)\n\n";
const i = text.indexOf(head);
if (i < 0) { console.error("readme-races: section heading not found in README.md"); process.exit(2); }
const start = i + head.length;
let end = start;
const lines = text.slice(start).split("\n");
let n = 0;
while (n < lines.length && lines[n].startsWith("|")) { end += lines[n].length + 1; n++; }
fs.writeFileSync("README.md", text.slice(0, start) + process.env.TABLE.trimEnd() + "\n" + text.slice(end));
console.log(`readme-races: ${n} table lines replaced`);
'
