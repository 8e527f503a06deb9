/**
 * What an HTML report is made from, and writing it. `hintsim report FILE` accepts what
 * `run --json`, `replay --json` and `hunt --json` print, or a replay file; anything else is
 * refused with one line. A replay file (or the replay file a hunt JSON names) is replayed
 * with trace events and the schedule recorded, so its report has a timeline.
 */
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { UsageError, type RunOptions } from '../machine/config.js';
import { REPLAY_FORMAT, fromReplayOptions, readReplayFile, type ReplayFile } from '../explore/replay_file.js';
import { runMachine, type RunResult } from '../machine/run.js';
import type { HuntSummary, ReportInput } from './html.js';

import { replayFileCommand } from '../machine/invocation.js';
import { takeStory, withStory } from './story.js';

export const ACCEPTED = "accepted: the JSON printed by 'hintsim run|replay|hunt --json', or a replay file written by 'hintsim hunt'";

/** What --html adds to a run: trace events, the sim schedule's decisions, finer state-mix samples. */
export function withReportRecording(o: RunOptions): RunOptions {
  return { ...o, trace: true, recordSchedule: o.mode === 'sim' || o.recordSchedule, mixSampleMs: o.mode === 'sim' ? 2 : 50 };
}

/**
 * The result as --json prints it without --html: the schedule decisions and (sim mode,
 * whose JSON is a pure function of seed and options) the wall-clock state-mix samples
 * go back out. The trace stays for --trace to write.
 */
export function withoutReportRecording(r: RunResult, asked: RunOptions): RunResult {
  const out: RunResult = { ...r };
  if (out.schedule && !asked.recordSchedule) { const { decisions: _d, ...s } = out.schedule; out.schedule = s; }
  if (r.mode === 'sim' && asked.mixSampleMs === undefined) delete out.state_mix_samples;
  if (!asked.trace) delete out.trace;
  return out;
}

/** Refuse an --html path that cannot be written, before anything runs (leaves nothing behind). */
export function checkHtmlPath(path: string): void {
  const bad = (why: string): never => { throw new UsageError(`--html: cannot write '${path}': ${why}; give a file path in a writable folder`); };
  if (existsSync(path) && statSync(path).isDirectory()) bad('it is a folder');
  const probe = `${path}.${process.pid}.probe`;
  try { writeFileSync(probe, '', { flag: 'wx' }); unlinkSync(probe); } catch (e) { bad((e as NodeJS.ErrnoException).code ?? (e as Error).message); }
}

/**
 * Write the page whole or not at all: a temporary file beside it, then a rename. The
 * temporary file has an unpredictable name and is created exclusively (never through a link
 * someone planted beside the page, e.g. when the page goes to a shared temporary folder).
 */
export function writeHtml(path: string, html: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let made = false;
  try {
    writeFileSync(tmp, '', { flag: 'wx', mode: 0o644 });
    made = true;
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    if (made) try { unlinkSync(tmp); } catch { /* gone already */ }
    throw new UsageError(`--html: cannot write '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Did the replayed run give the recorded violation? Same step and pfn when a schedule is
 * replayed by step; the same pfn when it is keyed (version 3: scheduling points added or
 * removed elsewhere move the global step, not the decisions).
 */
export function reproduced(rf: ReplayFile, r: RunResult): boolean {
  const v = r.violations.find((x) => x.oracle === rf.expected.oracle);
  if (!v || rf.schedule === null) return !!v;
  return v.pfn === rf.expected.pfn && (rf.schedule.keys !== undefined || v.step === rf.expected.step);
}

/** Replay a replay file with everything a report shows recorded. */
export async function replayForReport(rf: ReplayFile, file: string, madeWith: string): Promise<ReportInput> {
  const { story, result: r } = takeStory(await runMachine(withStory(withReportRecording(fromReplayOptions(rf.options, rf.seed, rf.schedule)), rf.expected)), rf.expected);
  return { kind: 'replay', result: r, command: replayFileCommand(file), madeWith, replay: { file, reproduced: reproduced(rf, r), expected: rf.expected }, ...(story ? { story } : {}) };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Shape check of a run result (what run/replay --json print); the reason it is not one, or null. */
function runResultProblem(j: Record<string, unknown>): string | null {
  for (const k of ['workload', 'mode', 'mem', 'host_mem', 'hinting', 'trace_hash']) if (typeof j[k] !== 'string') return `field '${k}' is not a string`;
  for (const k of ['seed', 'cpus', 'ops', 'seconds', 'ops_per_sec']) if (typeof j[k] !== 'number') return `field '${k}' is not a number`;
  for (const k of ['counters', 'state_mix']) if (!isObj(j[k])) return `field '${k}' is not an object`;
  if (!Array.isArray(j.unfix) || !Array.isArray(j.per_cpu)) return "fields 'unfix' and 'per_cpu' must be lists";
  if (!Array.isArray(j.violations)) return "field 'violations' is not a list";
  for (const v of j.violations as unknown[]) {
    if (!isObj(v) || typeof v.oracle !== 'string' || typeof v.pfn !== 'number' || typeof v.cpu !== 'number' || typeof v.step !== 'number' || typeof v.message !== 'string') {
      return 'a violation lacks oracle, pfn, cpu, step or message';
    }
  }
  if (j.state_mix_samples !== undefined && (!Array.isArray(j.state_mix_samples) || !(j.state_mix_samples as unknown[]).every((s) => isObj(s) && typeof s.ms === 'number' && isObj(s.mix)))) {
    return "field 'state_mix_samples' is malformed";
  }
  return null;
}

function huntSummary(j: Record<string, unknown>, replayFile: string | null): HuntSummary {
  const s = isObj(j.schedule) ? j.schedule as unknown as HuntSummary['shrink'] : null;
  return {
    race: String(j.race), found: j.found === true, seed: typeof j.seed === 'number' ? j.seed : null, seeds_tried: Number(j.seeds_tried) || 0,
    seconds: Number(j.seconds) || 0, replay_file: replayFile, violation: isObj(j.violation) ? j.violation as unknown as HuntSummary['violation'] : null, shrink: s,
  };
}

/** A hunt's JSON: replay the replay file it names (found relative to the cwd or to the JSON). */
async function huntInput(path: string, j: Record<string, unknown>, madeWith: string): Promise<ReportInput> {
  const named = typeof j.replay_file === 'string' ? j.replay_file : null;
  if (!j.found || !named) return { kind: 'hunt', result: null, command: null, madeWith, hunt: huntSummary(j, named) };
  const file = [named, resolve(dirname(path), named)].find((p) => existsSync(p));
  if (!file) {
    return { kind: 'hunt', result: null, command: replayFileCommand(named), madeWith, hunt: huntSummary(j, named),
      notes: [`The replay file '${named}' this hunt wrote is not there (looked beside the JSON too): counters, chart and timeline come from replaying it.`] };
  }
  const rep = await replayForReport(readReplayFile(file), file, madeWith);
  return { ...rep, kind: 'hunt', hunt: huntSummary(j, file) };
}

/** Read FILE and decide what it is; every refusal is one UsageError line naming the file. */
export async function loadReportInput(path: string, madeWith: string): Promise<ReportInput> {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new UsageError(`report: cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; ${ACCEPTED}`);
  }
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) {
    throw new UsageError(`report: '${path}' is not JSON (${(e as Error).message.split('\n')[0]}); ${ACCEPTED}`);
  }
  const notOurs = (why: string): never => { throw new UsageError(`report: '${path}' is not a hintsim result (${why}); ${ACCEPTED}`); };
  if (!isObj(j)) return notOurs('not a JSON object');
  if (j.format === REPLAY_FORMAT) {
    let rf: ReplayFile;
    try { rf = readReplayFile(path); } catch (e) {
      throw e instanceof UsageError ? new UsageError(e.message.replace(/^replay: /, 'report: ')) : e;
    }
    return replayForReport(rf, path, madeWith);
  }
  if (typeof j.race === 'string' && typeof j.found === 'boolean' && typeof j.seeds_tried === 'number') return huntInput(path, j, madeWith);
  if (typeof j.workload !== 'string' || !('counters' in j)) return notOurs('no workload and counters, no race and seeds_tried, no replay format');
  const problem = runResultProblem(j);
  if (problem) return notOurs(problem);
  const r = j as unknown as RunResult & { rerun?: unknown; replay?: { file?: unknown; reproduced?: unknown; expected?: unknown } };
  if (isObj(r.replay) && typeof r.replay.file === 'string' && isObj(r.replay.expected)) {
    return { kind: 'replay', result: r, command: replayFileCommand(r.replay.file), madeWith,
      replay: { file: r.replay.file, reproduced: r.replay.reproduced === true, expected: r.replay.expected as unknown as ReplayFile['expected'] } };
  }
  return { kind: 'run', result: r, command: typeof r.rerun === 'string' ? r.rerun : null, madeWith };
}
