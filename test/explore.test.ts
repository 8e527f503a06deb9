/**
 * Issue 15's exploration commands end to end: `check` (bounded exhaustive search), the
 * failure corpus (stress and hunt keep their replay files; `corpus replay`, `corpus merge`),
 * and their bad input.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeReplayFile, toReplayOptions, type ReplayFile } from '../src/explore/replay_file.js';
import { addToCorpus, mergeCorpora, readCorpus, siteOf } from '../src/explore/corpus.js';
import { DEFAULTS } from '../src/machine/config.js';
import { check } from '../src/explore/check.js';
import { checkExit } from '../src/cli/check.js';
import { cli, expectUsageErrors } from './helpers/cli.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

releaseWorkersAfterEach();

const tmp = (): string => mkdtempSync(join(tmpdir(), 'hintsim-explore-'));

describe('hintsim check', () => {
  it('exhausts a tiny ground with every fix on; DPOR and sleep sets explore no more schedules than --no-reduction', async () => {
    const base = { id: 'discard-get-page', fixed: true, preemptions: 1, ops: 4, cpus: null, seconds: 60, seed: 1 };
    const a = await check({ ...base, reduce: true });
    const b = await check({ ...base, reduce: false });
    for (const j of [a, b]) {
      expect(j.exhausted).toBe(true);
      expect(j.violation).toBeNull();
      expect(j.bounds.map((x) => x.bound)).toEqual([1]);
      expect(checkExit(j)).toBe(0);
    }
    expect(a.schedules).toBeGreaterThan(1);
    expect(a.schedules).toBeLessThanOrEqual(b.schedules);
  });
});

describe('hintsim check with the fix off', () => {
  it('finds discard-get-page with the fewest preemptions (bound 0 exhausted clean, found at 1), writes a replay file that replay reproduces, keeps it in the corpus', async () => {
    const d = tmp();
    const out = join(d, 'dgp.replay.json'), corpus = join(d, 'corpus');
    const r = await cli('check', 'discard-get-page', '--preemptions', '1', '--out', out, '--corpus', corpus, '--json');
    expect(r.status, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.violation.oracle).toBe('refcount');
    expect(j.bounds.map((b: { bound: number; exhausted: boolean; found: boolean }) => [b.bound, b.exhausted, b.found])).toEqual([[0, true, false], [1, false, true]]);
    expect(j.least_preemptions).toBe(1);
    expect(j.schedule_preemptions).toBe(1);
    expect(j.replay_verified).toBe(true);
    expect(j.replay_file).toBe(out);
    expect(readdirSync(corpus)).toEqual([expect.stringMatching(/^discard-get-page__refcount__/)]);
    const [rep, fixedOn, again] = await Promise.all([cli('replay', out, '--json'), cli('corpus', 'replay', corpus),
      cli('hunt', 'discard-get-page', '--corpus', corpus, '--out', join(d, 'hunt.replay.json'), '--json')]);
    expect(again.status, again.stderr).toBe(0); // hunt replays its race's corpus entries before searching
    expect(JSON.parse(again.stdout)).toMatchObject({ found: true, seeds_tried: 0, from_corpus: expect.stringContaining('discard-get-page__refcount__') });
    expect(rep.status).toBe(1);
    expect(JSON.parse(rep.stdout).violations.some((v: { oracle: string }) => v.oracle === 'refcount')).toBe(true);
    expect(fixedOn.status, fixedOn.stdout).toBe(0); // with every fix on the same schedule is clean: the fix holds
    expect(fixedOn.stdout).toMatch(/^corpus .*: 1 entry replayed with every fix on, 0 still fail/);
  }, 120_000);
});

describe('failure corpus', () => {
  it('stress keeps its replay file in --corpus; corpus replay fails while the bug is still there (exit 1)', async () => {
    const d = tmp();
    const out = join(d, 'out'), corpus = join(d, 'corpus');
    const s = await cli('stress', '--mode', 'sim', '--debug-fault', 'double-free', '--ops', '400', '--seed', '3', '--jobs', '1', '--shrink-seconds', '0',
      '--out', out, '--corpus', corpus, '--json', '--quiet');
    expect(s.status, s.stderr).toBe(1);
    const written = readdirSync(out);
    const kept = readdirSync(corpus);
    expect(written).toHaveLength(1);
    expect(kept).toEqual([expect.stringMatching(/^none__refcount__[0-9a-f]{12}\.replay\.json$/)]);
    expect(JSON.parse(readFileSync(join(corpus, kept[0]), 'utf8'))).toEqual(JSON.parse(readFileSync(join(out, written[0]), 'utf8')));
    const r = await cli('corpus', 'replay', corpus, '--json');
    expect(r.status, r.stderr).toBe(1); // the planted bug is not a fix: every fix on, it still fails
    const j = JSON.parse(r.stdout);
    expect(j.entries).toBe(1);
    expect(j.still_failing).toBe(1);
    expect(j.rows[0].oracle).toBe('refcount');
  });

  function entry(oracle: string, message: string, decisions: number, seed: number): ReplayFile {
    return makeReplayFile({
      race: 'discard-get-page', seed, options: toReplayOptions({ ...DEFAULTS, mode: 'sim', ops: 100, unfix: ['discard-get-page'] }),
      schedule: { first: 0, decisions: Array.from({ length: decisions }, (_, i) => ({ step: 10 + i, to: i % 2 })) },
      expected: { oracle, pfn: seed, cpu: 0, step: 9, message }, shrink: null,
    });
  }

  it('corpus merge keeps one entry per race, oracle and site: the one with the shortest schedule', () => {
    const a = tmp(), b = tmp(), out = tmp();
    addToCorpus(a, entry('refcount', 'discard fault: get_page took a reference on a free page (_count was -1); pfn 7: flags=x', 9, 1));
    addToCorpus(b, entry('refcount', 'discard fault: get_page took a reference on a free page (_count was -1); pfn 12: flags=y', 4, 2));
    addToCorpus(b, entry('bug_on', 'page_discard: page is not discarded', 6, 3));
    expect(siteOf('discard fault: get_page took a reference on a free page (_count was -1); pfn 7')).toBe('discard fault: get_page took a reference on a free page (_count was #)');
    const { kept, read } = mergeCorpora([a, b], out);
    expect(read).toBe(3);
    expect(kept.map((e) => [e.oracle, e.file.seed])).toEqual(expect.arrayContaining([['refcount', 2], ['bug_on', 3]]));
    expect(kept).toHaveLength(2);
    expect(readCorpus(out).map((e) => e.file.seed).sort()).toEqual([2, 3]);
    // merging is idempotent and does not depend on the order of the inputs
    const out2 = tmp();
    mergeCorpora([b, a, out], out2);
    expect(readdirSync(out2).sort()).toEqual(readdirSync(out).sort());
  });
});

describe('bad input', () => {
  it('exits 2 with one line naming what is wrong', async () => {
    const d = tmp();
    await expectUsageErrors([
      [['check', 'discard-get-page', '--preemptions', '-1'], '--preemptions'],
      [['hunt', 'discard-get-page', '--strategy', 'dfs'], '--strategy'],
      [['corpus', 'replay', join(d, 'missing')], 'corpus'],
      [['merge', join(d, 'missing.json')], 'merge'],
    ]);
  });
});
