/**
 * `hintsim races` shows each race's measured preemption bound (explore/race_bounds.ts, written
 * by scripts/race-bounds.ts): the JSON's `preemptions`, the text's and the markdown's column.
 */
import { describe, expect, it } from 'vitest';
import { RACES } from '../src/core/races.js';
import '../src/hosts/index.js'; // the hosts' races join the catalogue
import { RACE_BOUNDS, preemptionsCell } from '../src/explore/race_bounds.js';
import { cli } from './helpers/cli.js';

describe('hintsim races: the preemptions column', () => {
  it('every entry names a catalogued race, and the cells read it', () => {
    expect(RACES.some((r) => r.host !== 'essa')).toBe(true); // the whole catalogue is loaded
    for (const id of Object.keys(RACE_BOUNDS)) expect(RACES.map((r) => r.id), id).toContain(id);
    expect(preemptionsCell('no-such-race')).toBe('-');
    for (const [id, b] of Object.entries(RACE_BOUNDS)) {
      const cell = preemptionsCell(id);
      if (b.bound === 0) expect(cell).toBe('0 (sequential protocol bug)');
      else if (b.bound !== null) expect(cell).toBe(String(b.bound));
      else expect(cell).toBe(b.searched_to >= 0 ? `> ${b.searched_to}` : '-');
    }
  });

  it('--json, --markdown and the text show the same bounds', async () => {
    const [j, md, text] = await Promise.all([cli('races', '--json'), cli('races', '--markdown'), cli('races')]);
    for (const r of [j, md, text]) expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(j.stdout) as { id: string; preemptions: number | null }[];
    expect(rows.map((x) => x.id)).toEqual(RACES.map((x) => x.id));
    for (const row of rows) {
      expect(row.preemptions).toBe(RACE_BOUNDS[row.id].bound);
      expect(md.stdout).toContain(`| \`${row.id}\` |`);
      expect(md.stdout.split('\n').find((l) => l.startsWith(`| \`${row.id}\` |`))).toMatch(new RegExp(`\\| ${preemptionsCell(row.id).replace(/[()>]/g, '\\$&')} \\|$`));
    }
    expect(text.stdout).toMatch(/preemptions: 0 \(sequential protocol bug\)/);
    expect(text.stdout).toMatch(/preemptions: 1\n/);
  });
});
