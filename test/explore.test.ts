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
import { cli, expectUsageErrors } from './helpers/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'hintsim-explore-'));

describe('hintsim check', () => {
  it('exhausts a tiny ground with every fix on (exit 0); sleep sets and DPOR explore fewer schedules than --no-reduction', async () => {
    const args = ['check', 'discard-get-page', '--fixed', '--preemptions', '1', '--ops', '4', '--json', '--no-corpus'];
    const [a, b] = await Promise.all([cli(...args), cli(...args, '--no-reduction')]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const ja = JSON.parse(a.stdout), jb = JSON.parse(b.stdout);
    for (const j of [ja, jb]) {
      expect(j.exhausted).toBe(true);
      expect(j.violation).toBeNull();
      expect(j.bounds).toHaveLength(1);
      expect(j.bounds[0].bound).toBe(1);
    }
    expect(ja.reduction).toBe(true);
    expect(jb.reduction).toBe(false);
    expect(ja.schedules).toBeGreaterThan(1);
    expect(ja.schedules).toBeLessThanOrEqual(jb.schedules);
  });
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
      [['check', 'discard-get-page', '--preemptions', 'two'], '--preemptions'],
      [['check', 'no-such-race'], 'no-such-race'],
      [['run', '--mode', 'sim', '--strategy', 'nope'], '--strategy'],
      [['hunt', 'discard-get-page', '--strategy', 'dfs'], '--strategy'],
      [['corpus', 'replay', join(d, 'missing')], 'corpus'],
      [['merge', join(d, 'missing.json')], 'merge'],
    ]);
  });
});
