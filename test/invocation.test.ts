/**
 * Commands hintsim prints run as printed from where the user stands, and files it names
 * itself are never written through a link planted under that name (issue 16, item 5).
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hintsimCommand, shellPath, shellWord, writeOwnFile } from '../src/machine/invocation.js';
import { ROOT, cliEnv, type Cli } from './helpers/cli.js';

const dirs: string[] = [];
const scratch = (): string => { const d = realpathSync(mkdtempSync(join(tmpdir(), 'hintsim-inv-'))); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** The CLI from source with `cwd` as the user's directory (tsx loaded by absolute URL: it is not installed there). */
function cliIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Cli> {
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(ROOT, 'src', 'cli.ts'), ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, timedOut: false }));
  });
}

/** The words of a printed command after its `hintsim` prefix. */
function argsAfterPrefix(cmd: string, prefix: string): string[] {
  expect(cmd.startsWith(`${prefix} `), cmd).toBe(true);
  return cmd.slice(prefix.length + 1).split(' ');
}

describe('printed commands', () => {
  it('inside the clone they start with npx hintsim (a fresh clone has no hintsim on the PATH); paths are relative and quoted', () => {
    expect(hintsimCommand()).toBe('npx hintsim'); // vitest runs in the repository root
    expect(shellPath(join(process.cwd(), 'a', 'x.replay.json'))).toBe('a/x.replay.json');
    expect(shellWord("it's here")).toBe("'it'\\''s here'");
  });

  it('outside the clone: npx --prefix ROOT hintsim, and the rerun it prints reproduces the run from there', async () => {
    const d = scratch();
    const args = ['run', 'alloc-storm', '--mode', 'sim', '--ops', '3000', '--mem', '2M', '--debug-fault', 'double-free'];
    const r = await cliIn(d, args);
    expect(r.status, r.stderr).toBe(1);
    const line = /rerun with: +(.*)/.exec(r.stdout)?.[1] ?? '';
    const prefix = `npx --prefix ${shellWord(ROOT)} hintsim`;
    const again = await cliIn(d, argsAfterPrefix(line, prefix));
    expect(again.status).toBe(1);
    const violation = (s: string) => /\[refcount\] pfn \d+, cpu \d+, step \d+/.exec(s)?.[0];
    expect(violation(r.stdout)).toBeDefined();
    expect(violation(again.stdout)).toBe(violation(r.stdout));
  }, 60_000);

  it('npm start (the demo) writes its replay file beside the user, not in a temp folder, and the printed replay runs from there', async () => {
    const d = scratch();
    // npm runs package scripts in the package root and passes the user's directory as INIT_CWD
    const env = { npm_package_name: 'hintsim', npm_lifecycle_event: 'start', INIT_CWD: d };
    const r = await new Promise<Cli>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo'], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.setEncoding('utf8').on('data', (x: string) => { stdout += x; });
      child.stderr.setEncoding('utf8').on('data', (x: string) => { stderr += x; });
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr, timedOut: false }));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(d, 'discard-get-page.replay.json'))).toBe(true);
    expect(existsSync(join(ROOT, 'discard-get-page.replay.json'))).toBe(false);
    const prefix = `npx --prefix ${shellWord(ROOT)} hintsim`;
    expect(r.stdout).toContain(`Next: '${prefix} races' lists every race`);
    const line = /replay it exactly: +(.*)/.exec(r.stdout)?.[1] ?? '';
    expect(line).toBe(`${prefix} replay discard-get-page.replay.json`);
    const rep = await cliIn(d, argsAfterPrefix(line, prefix));
    expect(rep.stdout).toContain('replay: reproduced the refcount violation');
  }, 60_000);
});

describe('writeOwnFile', () => {
  it('creates a new file, replaces this user\'s own, and never writes through a planted link', () => {
    const d = scratch();
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    const planted = join(d, 'discard-get-page.replay.json');
    symlinkSync(victim, planted);
    expect(() => writeOwnFile(planted, 'replay')).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);

    const mine = join(d, 'mine.json');
    writeOwnFile(mine, 'first, longer');
    writeOwnFile(mine, 'second');
    expect(readFileSync(mine, 'utf8')).toBe('second');
  });
});
