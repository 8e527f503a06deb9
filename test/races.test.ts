/**
 * The race catalogue: every race a hunt has reproduced is found again by a bounded sim
 * hunt with its fix off, with its catalogued oracle; the same hunting ground with every
 * fix on stays clean.
 */
import { describe, expect, it } from 'vitest';
import { hunt } from '../src/explore/hunt.js';
import { RACES } from '../src/core/races.js';

const base = { seeds: 120, seconds: 100, jobs: 2, shard: [1, 1] as [number, number], mode: 'sim' as const, strategy: 'random' as const, depth: 3, cpus: null, shrink: false, shrinkSeconds: 0 };

describe('race catalogue', () => {
  it('lists at least the free-vs-discard pair and marks what is reproduced', () => {
    const ids = RACES.map((r) => r.id);
    expect(ids).toContain('discard-get-page');
    expect(ids).toContain('discard-grace');
    for (const r of RACES) expect(r.interleaving.length).toBeGreaterThan(1);
  });

  for (const r of RACES.filter((x) => x.reproduced)) {
    it(`hunt ${r.id}: the ${r.oracle} oracle fires with the fix off`, async () => {
      const h = await hunt({ ...base, id: r.id, fixed: false });
      expect(h.found).toBe(true);
      expect(h.violation?.oracle).toBe(r.oracle);
      expect(h.replay?.schedule?.decisions.length).toBeGreaterThan(0);
    }, 200_000);
  }

  it('the hunting grounds stay clean with every fix on', async () => {
    // the default hunting ground with 3 CPUs and stalled faults, the idle one, the memory-starved one and the lazy batch;
    // free page reporting's (short batches) and CMMA's (page cache under pressure; a migration)
    for (const id of ['grace-early', 'grace-idle', 'vmscan-isolation', 'lazy-batch-freed', 'fpr-stale-next-after-unlock', 'cmma-zap-without-recheck', 'cmma-essa-vs-migration']) {
      const h = await hunt({ ...base, id, fixed: true, seeds: 4 });
      expect(h.seeds_tried).toBe(4);
      expect(h.found, id).toBe(false);
    }
  }, 300_000);
});
