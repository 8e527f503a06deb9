#!/usr/bin/env node
/**
 * npm run lint:deps: the layering of DESIGN.md section 6, checked on every import of src/
 * and workloads/ as dependency-cruiser (pinned in package.json) resolves them.
 *
 * - The rules on single imports (guest-imports-no-host, host-imports-no-other-host,
 *   host-imports-no-guest, core-imports-only-core) are dependency-cruiser rules in
 *   .dependency-cruiser.cjs.
 * - no-folder-cycle is checked here, on the same dependency graph, because its folders are
 *   layers rather than directories: src/core, src/sim, src/guest, src/hosts (the registry,
 *   the files directly in src/hosts/), each src/hosts/<name>, src/machine, src/explore,
 *   src/report, src/bench, src/cli (with src/cli.ts) and workloads; a subfolder belongs to
 *   its layer (src/sim/strategies is src/sim). `import type` is left out of this rule:
 *   a host may import the registry's interfaces that the registry implements with it.
 *
 * Prints each violated rule, what it means, and the files; exits 1 on any violation.
 * Usage: node scripts/lint-deps.mjs [DIR]   (DIR defaults to the repository root)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = resolve(import.meta.dirname, '..');
const dir = resolve(process.argv[2] ?? here);
const depcruise = join(here, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const roots = ['src', 'workloads'].filter((r) => existsSync(join(dir, r)));

const r = spawnSync(process.execPath, [depcruise, ...roots, '--config', join(here, '.dependency-cruiser.cjs'), '--output-type', 'json'], {
  cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20,
});
let out;
try {
  out = JSON.parse(r.stdout);
} catch {
  process.stderr.write(`lint:deps: dependency-cruiser did not run (exit ${r.status}):\n${r.stderr}${r.stdout.slice(0, 2000)}\n`);
  process.exit(2);
}

const FOLDER_CYCLE = 'no-folder-cycle';
const comments = new Map(out.summary.ruleSetUsed.forbidden.map((x) => [x.name, x.comment ?? '']));
comments.set(FOLDER_CYCLE, 'Folders are layers: no cycle between src/core, src/sim, src/guest, src/hosts (registry), src/hosts/<name>, '
  + 'src/machine, src/explore, src/report, src/bench, src/cli and workloads (imports of types only are not counted).');

/** rule name -> lines to print */
const found = new Map();
const add = (rule, line) => { if (!found.has(rule)) found.set(rule, []); found.get(rule).push(line); };

for (const v of out.summary.violations) {
  if (v.rule.severity !== 'error') continue;
  add(v.rule.name, v.type === 'cycle' ? [v.from, ...v.cycle.map((c) => c.name)].join(' -> ') : `${v.from} -> ${v.to}`);
}

/** The layer a file belongs to, or null outside src/ and workloads/. */
function layer(file) {
  const p = file.split('/');
  if (p[0] === 'workloads') return 'workloads';
  if (p[0] !== 'src' || p.length < 2) return null;
  if (p.length === 2) return p[1] === 'cli.ts' ? 'src/cli' : 'src';
  if (p[1] === 'hosts') return p.length === 3 ? 'src/hosts' : `src/hosts/${p[2]}`;
  return `src/${p[1]}`;
}

/** layer -> layer -> ['from.ts -> to.ts', ...] */
const edges = new Map();
for (const m of out.modules) {
  const a = layer(m.source);
  if (!a) continue;
  for (const d of m.dependencies) {
    const b = d.resolved && layer(d.resolved);
    if (!b || b === a || d.dependencyTypes.includes('type-only')) continue;
    if (!edges.has(a)) edges.set(a, new Map());
    const to = edges.get(a);
    if (!to.has(b)) to.set(b, []);
    to.get(b).push(`${m.source} -> ${d.resolved}`);
  }
}

// Strongly connected components (Tarjan): every component of more than one layer is a cycle.
const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((t) => [...t.keys()])])].sort();
const index = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
let next = 0;
function visit(v) {
  index.set(v, next); low.set(v, next); next++; stack.push(v); on.add(v);
  for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
    if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const c = [];
    let w;
    do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v);
    if (c.length > 1) sccs.push(c.sort());
  }
}
for (const v of nodes) if (!index.has(v)) visit(v);

/** The shortest cycle from v back to v inside the component c (breadth first). */
function shortestCycle(v, c) {
  const prev = new Map([[v, null]]);
  const queue = [v];
  while (queue.length) {
    const a = queue.shift();
    for (const b of [...(edges.get(a)?.keys() ?? [])].sort()) {
      if (!c.includes(b)) continue;
      if (b === v) { const path = [a]; let x = a; while (prev.get(x) !== null) { x = prev.get(x); path.unshift(x); } return path; }
      if (!prev.has(b)) { prev.set(b, a); queue.push(b); }
    }
  }
  return null;
}
const seen = new Set();
for (const c of sccs) {
  for (const v of c) {
    const cyc = shortestCycle(v, c);
    if (!cyc) continue;
    const k = cyc.indexOf([...cyc].sort()[0]);
    const norm = [...cyc.slice(k), ...cyc.slice(0, k)];
    if (seen.has(norm.join(' '))) continue;
    seen.add(norm.join(' '));
    const lines = [[...norm, norm[0]].join(' -> ')];
    for (let i = 0; i < norm.length; i++) {
      const a = norm[i], b = norm[(i + 1) % norm.length];
      const files = edges.get(a).get(b);
      lines.push(`  ${a} -> ${b}: ${files.slice(0, 3).join(', ')}${files.length > 3 ? ` and ${files.length - 3} more` : ''}`);
    }
    add(FOLDER_CYCLE, lines.join('\n'));
  }
}

if (found.size === 0) {
  process.stdout.write(`lint:deps: no violation (${out.summary.totalCruised} modules, ${out.summary.totalDependenciesCruised} imports)\n`);
  process.exit(0);
}
const order = [FOLDER_CYCLE, ...[...comments.keys()].filter((k) => k !== FOLDER_CYCLE)];
let n = 0;
for (const rule of order) {
  const lines = found.get(rule);
  if (!lines) continue;
  n += lines.length;
  process.stdout.write(`\n${rule} (${lines.length}): ${comments.get(rule)}\n`);
  for (const l of lines) process.stdout.write(`  ${l.replaceAll('\n', '\n  ')}\n`);
}
process.stdout.write(`\nlint:deps: ${n} violation${n === 1 ? '' : 's'} of ${found.size} rule${found.size === 1 ? '' : 's'}: ${[...order].filter((k) => found.has(k)).join(', ')}\n`);
process.exit(1);
