/**
 * The failure corpus (like Hypothesis's example database): every replay file a hunt, a
 * stress run or a check writes is also kept in a corpus directory (default
 * `.hintsim/corpus/`, `--corpus DIR`), one file per failure, named by race, oracle and site
 * and the file's checksum:  <race>__<oracle>__<checksum 12>.replay.json  (race `none` when
 * the failure is not attributed to one). `hintsim corpus replay` replays them all with
 * every fix on (a fixed build passes them all); `hunt` replays its race's entries before
 * it searches; `hintsim corpus merge` folds the corpora of several shards into one,
 * keeping per (race, oracle, site) the entry with the shortest schedule.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type RunOptions } from '../machine/config.js';
import { fromReplayOptions, readReplayFile, type ReplayFile } from './replay_file.js';

/** The default corpus: $HINTSIM_CORPUS, else .hintsim/corpus under the working directory. */
export const DEFAULT_CORPUS = process.env.HINTSIM_CORPUS || join('.hintsim', 'corpus');
const SUFFIX = '.replay.json';

export interface CorpusEntry { path: string; file: ReplayFile; race: string; oracle: string; site: string }

/**
 * Where an oracle fired, without the run's particulars: the message up to its first ';' or
 * page dump, numbers replaced by '#' ("discard fault: get_page took a reference on a free
 * page (_count was #)").
 */
export function siteOf(message: string): string {
  const head = message.split(/;|: flags=| pfn \d/)[0];
  return head.replace(/-?\d+/g, '#').trim();
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '-');
}

/** The file name a replay file gets in a corpus. */
export function corpusName(f: ReplayFile): string {
  return `${safe(f.race ?? 'none')}__${safe(f.expected.oracle)}__${f.checksum.slice(0, 12)}${SUFFIX}`;
}

/** Keep a replay file in the corpus (an identical one already there is kept as is); its path. */
export function addToCorpus(dir: string, f: ReplayFile): string {
  try { mkdirSync(dir, { recursive: true }); } catch (e) {
    throw new UsageError(`--corpus: cannot create '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const path = join(dir, corpusName(f));
  if (!existsSync(path)) writeFileSync(path, JSON.stringify(f, null, 2) + '\n');
  return path;
}

/** Every entry of a corpus directory (a missing directory is an empty corpus only when `missingOk`). */
export function readCorpus(dir: string, missingOk = false): CorpusEntry[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`corpus: '${dir}' is not a directory`);
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`corpus: cannot read '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names.filter((n) => n.endsWith(SUFFIX)).sort().map((n) => {
    const path = join(dir, n);
    const file = readReplayFile(path); // a corrupt entry is a one-line usage error naming it
    return { path, file, race: file.race ?? 'none', oracle: file.expected.oracle, site: siteOf(file.expected.message) };
  });
}

/** An entry's run options: as recorded, or with every fix on. */
export function entryRunOptions(e: CorpusEntry, everyFixOn: boolean): RunOptions {
  const o = fromReplayOptions(e.file.options, e.file.seed, e.file.schedule);
  return everyFixOn ? { ...o, unfix: [] } : o;
}

/** Length of an entry's schedule (decisions; a threads-only entry counts as longest). */
function scheduleLength(f: ReplayFile): number {
  return f.schedule ? f.schedule.decisions.length / 2 : Number.MAX_SAFE_INTEGER;
}

/**
 * Fold corpora into `out`: per (race, oracle, site) the entry with the shortest schedule
 * (then the fewest ops, then the smallest checksum: the result does not depend on the
 * order of the inputs). Returns what was kept and how many entries were read.
 */
export function mergeCorpora(dirs: string[], out: string): { kept: CorpusEntry[]; read: number } {
  const best = new Map<string, CorpusEntry>();
  let read = 0;
  for (const d of dirs) {
    for (const e of readCorpus(d)) {
      read++;
      const key = `${e.race}\u0000${e.oracle}\u0000${e.site}`;
      const cur = best.get(key);
      if (!cur || better(e, cur)) best.set(key, e);
    }
  }
  const kept = [...best.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const e of kept) addToCorpus(out, e.file);
  return { kept, read };
}

function better(a: CorpusEntry, b: CorpusEntry): boolean {
  const la = scheduleLength(a.file), lb = scheduleLength(b.file);
  if (la !== lb) return la < lb;
  const oa = a.file.options.ops ?? Infinity, ob = b.file.options.ops ?? Infinity;
  if (oa !== ob) return oa < ob;
  return a.file.checksum < b.file.checksum;
}
