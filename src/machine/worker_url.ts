/**
 * Resolve a worker entry to something Node 20 can load in a Worker.
 * Compiled (dist/): the sibling `<name>.js`. From source (tsx, vitest): bundle
 * `<name>.ts` with esbuild into node_modules/.cache/hintsim/<name>.<hash>.mjs
 * (toolchain notes section 3: Node 20 cannot load .ts in a worker).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hostWorkerEntries } from '../hosts/index.js';

const self = import.meta.url;
export const fromSource = self.endsWith('.ts');
const cache = new Map<string, URL>();

/** Every worker entry by name, as a path under src/ without its extension. */
const MACHINE_ENTRIES: Record<string, string> = { cpu_worker: 'machine/cpu_worker', host_worker: 'machine/host_worker' };
const ENTRIES: Record<string, string> = {
  ...MACHINE_ENTRIES, ...hostWorkerEntries(), // each host's workers come from the registry
  hunt_task: 'explore/hunt_task', stress_task: 'explore/stress_task', shrink_task: 'explore/shrink_task',
};

function entryPath(name: string): string {
  const p = ENTRIES[name];
  if (p === undefined) throw new Error(`worker_url: unknown worker entry '${name}'`);
  return p;
}

export function workerUrl(name: string): URL {
  const hit = cache.get(name);
  if (hit) return hit;
  if (!fromSource) return new URL(`../${entryPath(name)}.js`, self);
  return bundleOnDemand(name);
}

/**
 * A bundled worker (a piscina hunt task) cannot find its siblings relative to its own
 * bundle: its parent hands it the resolved entries (workerUrls()) to adopt.
 */
export function adoptWorkerUrls(urls: Record<string, string>, execArgv: string[] | undefined): void {
  for (const [k, u] of Object.entries(urls)) cache.set(k, new URL(u));
  execArgvOverride = execArgv;
  overridden = true;
}

/** The resolved entries of every worker a run needs, for adoptWorkerUrls in a child. */
export function workerUrls(): Record<string, string> {
  return Object.fromEntries([...Object.keys(MACHINE_ENTRIES), ...Object.keys(hostWorkerEntries())].map((n) => [n, workerUrl(n).href]));
}

function bundleOnDemand(name: string): URL {
  const hit = cache.get(name);
  if (hit) return hit;
  const entry = fileURLToPath(new URL(`../${entryPath(name)}.ts`, self));
  const require = createRequire(self);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [entry], bundle: true, write: false, platform: 'node', format: 'esm',
    target: 'node20', sourcemap: 'inline', packages: 'external', logLevel: 'silent',
  });
  const code = out.outputFiles[0].contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const root = join(dirname(fileURLToPath(self)), '..', '..'); // this file is src/machine/worker_url.ts
  const dir = join(root, 'node_modules', '.cache', 'hintsim');
  const file = join(dir, `${name}.${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.floor(Math.random() * 1e9)}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file); // atomic: parallel test forks agree on the content-addressed name
  }
  const url = pathToFileURL(file);
  cache.set(name, url);
  return url;
}

/** Bundled workers get explicit execArgv so they do not inherit tsx or vitest flags. */
let execArgvOverride: string[] | undefined;
let overridden = false;
export function workerExecArgv(): string[] | undefined {
  if (overridden) return execArgvOverride;
  return fromSource ? ['--enable-source-maps'] : undefined;
}
