/**
 * Before a hunt searches seeds: replay the failure corpus's entries for its race, as they
 * were recorded (their own fixes off); the first that still shows the race's oracle is the
 * hunt's result, with no seed tried. A corpus that does not exist yet is empty.
 */
import type { RaceEntry } from '../core/races.js';
import { runMachine } from '../machine/run.js';
import { releaseIdleWorkers, setWorkerReuse, workerReuse } from '../machine/worker_pool.js';
import { entryRunOptions, readCorpus } from './corpus.js';
import type { HuntResult } from './hunt.js';

export async function huntCorpus(dir: string, race: RaceEntry): Promise<HuntResult | null> {
  const entries = readCorpus(dir, true).filter((e) => e.race === race.id && e.oracle === race.oracle);
  if (entries.length === 0) return null;
  const t0 = performance.now();
  const reused = workerReuse();
  setWorkerReuse(true);
  try {
    for (const e of entries) {
      const r = await runMachine(entryRunOptions(e, false));
      // An entry counts only when it still replays exactly (same pfn and step): one that fires
      // the oracle elsewhere (written by an older build) would be handed on as a file that
      // does not reproduce; the search then finds a fresh one.
      const x = e.file.expected;
      const v = r.violations.find((y) => y.oracle === race.oracle && (e.file.schedule === null || (y.pfn === x.pfn && y.step === x.step)));
      if (v) return { race: race.id, found: true, seed: e.file.seed, violation: v, seeds_tried: 0, seconds: (performance.now() - t0) / 1000, replay: e.file, from_corpus: e.path };
    }
  } finally {
    setWorkerReuse(reused);
    if (!reused) await releaseIdleWorkers();
  }
  return null;
}
