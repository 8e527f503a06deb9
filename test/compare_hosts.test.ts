/**
 * `compare --host all` (issue 18): every design on one workload and seed, in the same units;
 * sim numbers reproducible run to run; the two directional facts the reference predicts
 * (free page reporting frees nothing from blocks below its order; CMMA frees nothing without
 * host pressure); bad input exits 2 with one line.
 */
import { describe, expect, it } from 'vitest';
import { compareAllHosts, DESIGNS } from '../src/bench/compare_hosts.js';
import { DEFAULTS, parseSize, type RunOptions } from '../src/machine/config.js';
import { cli, expectUsageErrors } from './helpers/cli.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

releaseWorkersAfterEach();

const base = (over: Partial<RunOptions> = {}): RunOptions => ({
  ...DEFAULTS, workload: 'alloc-storm', mode: 'sim', ops: 2000, seed: 3, memBytes: parseSize('mem', '1M'), hostMemBytes: parseSize('host-mem', '256K'),
  workloadOptions: { fill: 50, fill_low: 10, wave: 400, max_order: 4 }, ...over,
});
const byDesign = (rows: { design: string }[], d: string) => rows.find((r) => r.design === d) as unknown as Record<string, number>;

describe('compare --host all', () => {
  it('prints one row per design with the same columns, the same numbers in two sim runs', async () => {
    const args = ['compare', 'alloc-storm', '--host', 'all', '--mode', 'sim', '--ops', '1000', '--mem', '1M', '--host-mem', '256K', '--seed', '3',
      '--opt', 'max_order=4', '--opt', 'report_order=2', '--opt', 'report_delay=20', '--opt', 'migrate_at=500'];
    const [text, json] = await Promise.all([cli(...args), cli(...args, '--json')]); // two processes, two runs of every design
    expect(json.status, json.stderr).toBe(0);
    const j = JSON.parse(json.stdout) as { rows: Record<string, number | string | null>[] };
    expect(j.rows.map((r) => r.design)).toEqual(DESIGNS.map(([d]) => d));
    expect(j.rows.map((r) => r.design)).toEqual(expect.arrayContaining(['off', 'unused', 'full (essa)', 'xenpaging', 'reporting', 'cmma']));
    const keys = Object.keys(j.rows[0]).sort();
    for (const r of j.rows) expect(Object.keys(r).sort()).toEqual(keys);
    for (const k of ['host_calls', 'freed_no_io', 'host_pageouts', 'host_pageins', 'zero_fills', 'guest_hint_work_per_1000_ops', 'free_to_drop', 'double_paging', 'violations']) expect(keys).toContain(k);
    // the text table: a header and one row per design, each with the JSON run's numbers (sim: reproducible run to run)
    const lines = text.stdout.split('\n').filter((l) => l.startsWith('| '));
    expect(lines).toHaveLength(DESIGNS.length + 1);
    expect(lines[0]).toMatch(/design .*host calls .*freed w\/o I\/O .*page-outs .*page-ins .*zero fills .*hint work\/1000 ops .*free->drop \(steps\) .*double paging .*violations/);
    j.rows.forEach((r, i) => {
      const cells = lines[i + 1].split('|').map((c) => c.trim()).filter((c) => c.length > 0);
      expect(cells).toEqual([r.design, r.host_calls, r.freed_no_io, r.host_pageouts, r.host_pageins, r.zero_fills, r.guest_hint_work_per_1000_ops, r.free_to_drop ?? '-', r.double_paging, r.violations].map(String));
    });
  }, 60_000);

  it('free page reporting frees nothing from blocks below its order', async () => {
    // 1 MiB: no free block ever reaches order 9 (256 frames); with order 2 the host discards reported blocks
    const hosts = (order: number) => new Map([['reporting', { report_order: order, report_capacity: 4, report_delay: 20 }]]);
    const high = byDesign(await compareAllHosts(base(), hosts(9), ['reporting']), 'reporting');
    const low = byDesign(await compareAllHosts(base(), hosts(2), ['reporting']), 'reporting');
    expect(high.freed_no_io).toBe(0);
    expect(high.host_calls).toBe(0);
    expect(low.freed_no_io).toBeGreaterThan(0);
    expect(low.violations).toBe(0);
  }, 60_000);

  it('CMMA frees nothing without host pressure', async () => {
    const none = byDesign(await compareAllHosts(base({ hostMemBytes: parseSize('host-mem', '1M') }), new Map(), ['cmma']), 'cmma');
    const some = byDesign(await compareAllHosts(base(), new Map(), ['cmma']), 'cmma');
    expect(none.freed_no_io).toBe(0);
    expect(none.host_pageouts).toBe(0);
    expect(some.freed_no_io).toBeGreaterThan(0);
    expect(some.violations).toBe(0);
  }, 60_000);

  it('bad input exits 2 with one line', async () => {
    await expectUsageErrors([
      [['run', '--host', 'bogus'], '--host'],
      [['run', 'alloc-storm', '--host', 'cmma', '--mode', 'sim', '--ops', '1000', '--opt', 'migrate_at=5000'], 'migrate_at'],
      [['compare', 'alloc-storm', '--host', 'all', '--mode', 'sim', '--ops', '1000', '--opt', 'migrate_at=1000'], 'migrate_at'],
      [['compare', 'alloc-storm', '--host', 'all', '--opt', 'no_such_knob=1'], 'no_such_knob'],
      [['run', 'alloc-storm', '--opt', 'migrate_at=10'], 'migrate_at'], // an option of another host
    ]);
  }, 60_000);
});
