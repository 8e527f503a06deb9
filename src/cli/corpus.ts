/**
 * `hintsim corpus replay [DIR]`: replay every entry of a failure corpus with every fix on
 * (exit 1 if any still fails: how a user checks a fix); `hintsim corpus merge DIR...`: fold
 * several corpora (shards) into one (--out, default the first DIR), one entry per race,
 * oracle and site, the shortest schedule kept.
 */
import type { Command } from 'commander';
import { DEFAULT_CORPUS, entryRunOptions, mergeCorpora, readCorpus, type CorpusEntry } from '../explore/corpus.js';
import { runMachine } from '../machine/run.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';
import { UsageError, type SetExit } from './common.js';

export interface CorpusReplayRow { file: string; race: string; oracle: string; site: string; still_fails: boolean; violations: string[] }

/** Replay every entry with every fix on. */
export async function replayCorpus(dir: string): Promise<CorpusReplayRow[]> {
  const entries = readCorpus(dir);
  const reused = workerReuse();
  setWorkerReuse(true);
  const rows: CorpusReplayRow[] = [];
  try {
    for (const e of entries) {
      const r = await runMachine(entryRunOptions(e, true));
      rows.push({ file: e.path, race: e.race, oracle: e.oracle, site: e.site, still_fails: r.violations.length > 0, violations: r.violations.map((v) => `[${v.oracle}] ${v.message}`) });
    }
  } finally {
    setWorkerReuse(reused);
    if (!reused) await releaseIdleWorkers();
  }
  return rows;
}

const decisionsOf = (e: CorpusEntry): number | null => (e.file.schedule ? e.file.schedule.decisions.length / 2 : null);

export function registerCorpus(program: Command, setExit: SetExit): void {
  const c = program.command('corpus').description(`the failure corpus: every replay file hunt, stress and check write is also kept in ${DEFAULT_CORPUS}/ (their --corpus DIR)`);
  c.command('replay [dir]').description(`replay every entry (default ${DEFAULT_CORPUS}) with every fix on; exit 1 if any still fails (checks a fix against every failure seen)`)
    .option('--json', 'machine-readable')
    .action(async (dir: string | undefined, f: { json?: boolean }) => {
      const d = dir ?? DEFAULT_CORPUS;
      const rows = await replayCorpus(d);
      const failing = rows.filter((r) => r.still_fails);
      if (f.json) process.stdout.write(JSON.stringify({ corpus: d, entries: rows.length, still_failing: failing.length, rows }, null, 2) + '\n');
      else {
        process.stdout.write(`corpus ${d}: ${rows.length} entr${rows.length === 1 ? 'y' : 'ies'} replayed with every fix on, ${failing.length} still fail${failing.length === 1 ? 's' : ''}\n`);
        for (const r of rows) process.stdout.write(`  ${r.still_fails ? 'FAIL' : 'ok  '} ${r.race} [${r.oracle}] ${r.site}  (${r.file})${r.still_fails ? `\n       ${r.violations[0]}` : ''}\n`);
      }
      setExit(failing.length ? 1 : 0);
    });
  c.command('merge <dirs...>').description('fold corpora (e.g. one per shard) into one: per race, oracle and site the entry with the shortest schedule')
    .option('--out <dir>', 'the merged corpus (default: the first DIR)')
    .option('--json', 'machine-readable')
    .action((dirs: string[], f: { out?: string; json?: boolean }) => {
      if (dirs.length === 0) throw new UsageError('corpus merge: name at least one corpus directory');
      const out = f.out ?? dirs[0];
      const { kept, read } = mergeCorpora(dirs, out);
      if (f.json) process.stdout.write(JSON.stringify({ out, read, kept: kept.map((e) => ({ race: e.race, oracle: e.oracle, site: e.site, decisions: decisionsOf(e) })) }, null, 2) + '\n');
      else {
        process.stdout.write(`corpus merge: ${read} entries from ${dirs.length} corpora -> ${kept.length} in ${out}\n`);
        for (const e of kept) process.stdout.write(`  ${e.race} [${e.oracle}] ${e.site}: ${decisionsOf(e) === null ? 'threads only' : `${decisionsOf(e)} decisions`}\n`);
      }
    });
}
