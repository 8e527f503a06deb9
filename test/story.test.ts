/**
 * The race as a story (issue 16, item 2): `replay FILE --story` and the report's story
 * section tell the violation from the recorded schedule, for races of every host.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromReplayOptions, readReplayFile } from '../src/explore/replay_file.js';
import { STORY_MAX_LINES, storyRun, type Story } from '../src/report/story.js';
import { ROOT, cli } from './helpers/cli.js';

const replays = join(ROOT, 'test', 'golden', 'replays');

async function storyOf(race: string): Promise<{ story: Story; cpu: number; pfn: number }> {
  const f = readReplayFile(join(replays, `${race}.replay.json`));
  const { story, result } = await storyRun(fromReplayOptions(f.options, f.seed, f.schedule), f.expected);
  expect(result.violations.some((v) => v.oracle === f.expected.oracle && v.step === f.expected.step)).toBe(true);
  expect(story).not.toBeNull();
  return { story: story!, cpu: f.expected.cpu, pfn: f.expected.pfn };
}

const lineOf = (s: Story, who: string, re: RegExp) => s.lines.find((l) => l.who === who && re.test(`${l.fn} ${l.what}`));

describe('the story of a violation', () => {
  it('discard-grace (essa): the discarding CPU frees the page without a grace period and it is reused under the faulting CPU', async () => {
    const { story: s, cpu, pfn } = await storyOf('discard-grace');
    expect(s.pfn).toBe(pfn);
    expect(s.lines.length).toBeLessThanOrEqual(20);
    expect(lineOf(s, 'host', /-> Vz/)).toBeDefined();
    expect(lineOf(s, `cpu${cpu}`, /discard_fault/)).toBeDefined();
    expect(lineOf(s, `cpu${1 - cpu}`, /_count .*-> -1/)).toBeDefined();
    expect(s.lines[s.lines.length - 1]).toMatchObject({ who: `cpu${cpu}`, violation: true });
  }, 30_000);

  it('xp-answer-drops (xenpaging): the pager pages the frame out under the guest, named by its p2m states', async () => {
    const { story: s, cpu, pfn } = await storyOf('xp-answer-drops');
    expect(s.pfn).toBe(pfn);
    expect(s.lines.length).toBeLessThanOrEqual(STORY_MAX_LINES);
    expect(lineOf(s, 'pager', /p2m paging_out.* -> p2m paged/)).toBeDefined();
    expect(s.lines[s.lines.length - 1]).toMatchObject({ who: `cpu${cpu}`, violation: true });
  }, 30_000);

  it('kv-remote-flush (shadow): both CPUs on the page, the violating one last', async () => {
    const { story: s, cpu, pfn } = await storyOf('kv-remote-flush');
    expect(s.pfn).toBe(pfn);
    expect(s.lines.length).toBeLessThanOrEqual(STORY_MAX_LINES);
    expect(s.participants).toEqual(expect.arrayContaining(['cpu0', 'cpu1']));
    expect(s.lines[s.lines.length - 1]).toMatchObject({ who: `cpu${cpu}`, violation: true });
  }, 30_000);
});

describe('hintsim replay --story', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hintsim-story-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('discard-get-page: the host discards, one CPU faults, the other frees, the faulting CPU takes the reference; the report opens with it', async () => {
    const html = join(dir, 'r.html');
    const file = join(replays, 'discard-get-page.replay.json');
    const { pfn, cpu, step } = (JSON.parse(readFileSync(file, 'utf8')) as { expected: { pfn: number; cpu: number; step: number } }).expected;
    const other = 1 - cpu;
    const r = await cli('replay', file, '--story', '--html', html);
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    // the file's violation: refcount on its pfn by its cpu; the other CPU frees
    expect(lines[0]).toMatch(new RegExp(`^story of pfn ${pfn} \\(refcount\\): host, cpu${cpu}, cpu${other}, from step \\d+( \\(\\d+ events merged or left out\\))?$`));
    const events = lines.filter((l) => /^\s+(\(before\) )?step /.test(l));
    expect(events.length).toBeLessThanOrEqual(20);
    expect(events.every((l) => l.includes(` pfn ${pfn} `))).toBe(true);
    expect(events.some((l) => / host .* -> Vz/.test(l))).toBe(true);                      // the host action
    expect(events.some((l) => new RegExp(` cpu${cpu} .*discard_fault .*fault \\(host Vz\\)`).test(l))).toBe(true); // the fault on the discarded page
    expect(events.some((l) => new RegExp(` cpu${other} .*_count \\d+ -> -1`).test(l))).toBe(true);             // the free
    expect(events.some((l) => /\[preempted\]$/.test(l))).toBe(true);
    expect(events[events.length - 1]).toMatch(new RegExp(` cpu${cpu} .*_count -1 -> 0 .*<- violation$`));   // a reference on a free page
    expect(lines).toContain(`replay: reproduced the refcount violation at step ${step}, pfn ${pfn}`);
    const page = readFileSync(html, 'utf8');
    const story = page.indexOf('<section id="story">');
    expect(story).toBeGreaterThan(0);
    expect(story).toBeLessThan(page.indexOf('<section id="summary">'));
    expect(page.slice(story, page.indexOf('</section>', story))).toContain('__do_discard_fault');
  }, 60_000);
});
