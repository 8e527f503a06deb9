/**
 * What a refactor must keep (issue 14): every race's replay file, hunted before the layout
 * change, replays to the same oracle, pfn and step; `run --mode sim --json` of a fixed set
 * of seeds, hosts and workloads is identical but for its timing fields. Recorded by
 * scripts/record-golden.sh; re-record only when MODEL_VERSION changes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromReplayOptions, MODEL_VERSION, readReplayFile } from '../src/explore/replay_file.js';
import { runMachine } from '../src/machine/run.js';
import { RACES } from '../src/core/races.js';
import { cli } from './helpers/cli.js';
import { releaseWorkersAfterEach } from './helpers/machine.js';

const dir = join(import.meta.dirname, 'golden');
const replays = readdirSync(join(dir, 'replays')).filter((f) => f.endsWith('.replay.json')).sort();
const simRuns = readFileSync(join(dir, 'sim-runs.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean)
  .map((l) => { const [name, ...args] = l.split(/\s+/); return { name, args }; });

releaseWorkersAfterEach();

describe('golden behaviour', () => {
  it('has a replay file for every reproduced race, all of this model', () => {
    for (const r of RACES.filter((x) => x.reproduced)) expect(replays, r.id).toContain(`${r.id}.replay.json`);
    for (const f of replays) expect(readReplayFile(join(dir, 'replays', f)).model).toBe(MODEL_VERSION);
  });

  it('every race\'s replay file reproduces its violation exactly (oracle, pfn, step)', async () => {
    for (const f of replays) {
      const rf = readReplayFile(join(dir, 'replays', f));
      const r = await runMachine(fromReplayOptions(rf.options, rf.seed, rf.schedule));
      // the hunt recorded the first violation of the race's oracle (another may come first)
      const v = r.violations.find((x) => x.oracle === rf.expected.oracle);
      expect(v, f).toBeDefined();
      if (!v) continue;
      expect({ file: f, oracle: v.oracle, pfn: v.pfn, step: v.step }).toEqual({ file: f, oracle: rf.expected.oracle, pfn: rf.expected.pfn, step: rf.expected.step });
    }
  }, 400_000);

  it('run --mode sim --json is identical to the recorded JSON but for seconds, ops_per_sec and how the rerun command starts', async () => {
    for (const { name, args } of simRuns) {
      const want = readFileSync(join(dir, 'sim', `${name}.json`), 'utf8');
      const r = await cli('run', ...args, '--mode', 'sim', '--json');
      const got = JSON.parse(r.stdout) as Record<string, unknown>;
      delete got.seconds;
      delete got.ops_per_sec;
      // the rerun command starts the way this user runs hintsim (npx hintsim in the clone, where tests run)
      if (typeof got.rerun === 'string') got.rerun = got.rerun.replace(/^npx hintsim /, 'hintsim ');
      expect(JSON.stringify(got, null, 1) + '\n', name).toBe(want);
    }
  }, 300_000);
});
