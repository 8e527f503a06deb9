/**
 * Replays that survive a code change (issue 16, item 3): a version-3 replay file keys each
 * decision by its participant's own count of points of that kind on that object. With extra
 * scheduling points inserted (the hidden HINTSIM_EXTRA_POINTS switch, as a model change would
 * add them) a keyed file still reproduces its violation, a step-keyed one does not, and a
 * diverging replay reports its first divergence.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromReplayOptions, makeReplayFile, readReplayFile, type ReplayFile } from '../src/explore/replay_file.js';
import { runMachine } from '../src/machine/run.js';
import type { Schedule } from '../src/sim/schedule.js';
import { ROOT, cli } from './helpers/cli.js';

const golden = join(ROOT, 'test', 'golden', 'replays', 'discard-get-page.replay.json');
const dir = mkdtempSync(join(tmpdir(), 'hintsim-keyed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let f: ReplayFile;
let keyed: Schedule;
const write = (name: string, s: Schedule): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(makeReplayFile({ race: f.race, seed: f.seed, options: f.options, schedule: s, expected: f.expected, shrink: null }), null, 2));
  return file;
};

beforeAll(async () => {
  f = readReplayFile(golden);
  // the golden (step-keyed, version 1) schedule replayed once with its decisions recorded, keyed
  const r = await runMachine({ ...fromReplayOptions(f.options, f.seed, f.schedule), recordSchedule: true, recordKeys: true });
  expect(r.violations.find((v) => v.oracle === 'refcount')?.step).toBe(f.expected.step);
  keyed = { first: r.schedule!.first, decisions: r.schedule!.decisions!, keys: r.schedule!.keys! };
  expect(keyed.keys!.length).toBe(keyed.decisions.length);
}, 60_000);

describe('keyed replay files (version 3)', () => {
  it('replay exactly (by step) on an unchanged model; with extra scheduling points the keyed file still reproduces (by its keys) and the step-keyed one does not; a divergence is reported', async () => {
    const file = write('keyed.json', keyed);
    expect((JSON.parse(readFileSync(file, 'utf8')) as ReplayFile).version).toBe(3);
    const far = keyed.keys!.map((k, i) => (i === 3 ? { ...k, count: k.count + 100_000 } : k)); // a point that is never reached
    const diverging = write('diverging.json', { ...keyed, keys: far });
    const extra = { env: { HINTSIM_EXTRA_POINTS: '7' } };
    const [same, moved, stepKeyed, div] = await Promise.all([
      cli('replay', file), cli('replay', file, extra), cli('replay', golden, extra), cli('replay', diverging, extra),
    ]);
    expect(same.stdout).not.toContain('replay: keyed schedule'); // unchanged model: the step replay is exact, keys are not needed
    expect(same.stdout).toContain(`replay: reproduced the refcount violation at step ${f.expected.step}, pfn ${f.expected.pfn}\n`);
    expect(moved.stdout).toContain('replay: keyed schedule: all');
    expect(moved.stdout).toMatch(new RegExp(`replay: reproduced the refcount violation at step (?!${f.expected.step}\\b)\\d+ \\(recorded at step ${f.expected.step}\\), pfn ${f.expected.pfn}`));
    expect(stepKeyed.stdout).toContain('replay: did NOT reproduce the expected refcount violation');
    const line = div.stdout.split('\n').find((l) => l.startsWith('replay: diverged'));
    expect(line).toMatch(new RegExp(`^replay: diverged at decision 4 of ${keyed.decisions.length} \\(.+, recorded at step ${keyed.decisions[3].step}: .+\\); went on with the seed's random strategy; the refcount oracle (still fired|did not fire)$`));
  }, 60_000);

  it('the switch is not in --help; a file with malformed keys or op budgets exits 2 with one line', async () => {
    const [top, replay] = await Promise.all([cli('--help'), cli('replay', '--help')]);
    expect(top.stdout + replay.stdout).not.toMatch(/EXTRA_POINTS|extra scheduling/i);
    const good = JSON.parse(readFileSync(write('k.json', keyed), 'utf8')) as ReplayFile & { checksum?: string };
    const { checksum: _c, ...rest } = good;
    const bad = { ...rest, schedule: { ...rest.schedule!, keys: rest.schedule!.keys!.slice(1) } };
    const path = join(dir, 'bad-keys.json');
    writeFileSync(path, JSON.stringify({ ...bad, checksum: createHash('sha256').update(JSON.stringify(bad)).digest('hex') }));
    const budgets = { ...rest, options: { ...rest.options, ops_per_cpu: [10] } }; // one budget for two CPUs
    const path2 = join(dir, 'bad-budgets.json');
    writeFileSync(path2, JSON.stringify({ ...budgets, checksum: createHash('sha256').update(JSON.stringify(budgets)).digest('hex') }));
    const [r, r2] = await Promise.all([cli('replay', path, '--story'), cli('replay', path2)]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([`hintsim: replay: '${path}' has a malformed schedule`]);
    expect(r2.status).toBe(2);
    expect(r2.stderr.trim().split('\n')).toEqual([`hintsim: replay: '${path2}' has a bad ops_per_cpu '[10]' (one whole number per CPU)`]);
  }, 30_000);
});
