/**
 * The command line as a user runs it, from source: `node --import tsx src/cli.ts ARGS...`
 * with the repository root as cwd, NO_COLOR=1 and without the test runner's NODE_OPTIONS or
 * FORCE_COLOR. Resolves with the exit status and both streams; never rejects on a non-zero
 * exit. A process still running after `timeout` ms (default 120 s) is killed with SIGKILL
 * and resolves with status null and `timedOut` set.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface Cli { status: number | null; stdout: string; stderr: string; timedOut: boolean }
export interface CliOptions { timeout?: number; env?: NodeJS.ProcessEnv }

const isOptions = (x: unknown): x is CliOptions => typeof x === 'object' && x !== null;

/**
 * The failure corpus a CLI run uses in tests: a fresh temp dir per run (never the
 * repository's .hintsim), so that no hunt finds a corpus entry an earlier test left.
 */
export function testCorpusDir(): string {
  return mkdtempSync(join(tmpdir(), 'hintsim-corpus-'));
}

export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HINTSIM_CORPUS: testCorpusDir(), ...extra };
  delete env.NODE_OPTIONS; // the CLI must not inherit the test runner's loader flags
  delete env.FORCE_COLOR;
  return env;
}

/** `cli('run', 'alloc-storm', '--json')` or `cli('hunt', ..., { timeout: 240_000 })`. */
export function cli(...args: (string | CliOptions)[]): Promise<Cli> {
  const last = args[args.length - 1];
  const opts: CliOptions = isOptions(last) ? (args.pop() as CliOptions) : {};
  const argv = args as string[];
  const timeout = opts.timeout ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...argv], {
      cwd: ROOT, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeout);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr, timedOut }); });
  });
}

/**
 * Bad input, as the command line contract has it: each `[args, flag]` case exits 2 with
 * nothing on stdout and exactly one stderr line, `hintsim: ...`, that names `flag`.
 */
export async function expectUsageErrors(cases: readonly (readonly [readonly string[], string])[]): Promise<void> {
  const rs = await Promise.all(cases.map(([a]) => cli(...a)));
  rs.forEach((r, i) => {
    expect(r.status, cases[i][0].join(' ')).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^hintsim: /);
    expect(lines[0]).toContain(cases[i][1]);
  });
}
