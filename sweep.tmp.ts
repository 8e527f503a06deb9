import { runMachine } from './src/machine/run.ts';
import { DEFAULTS } from './src/machine/config.ts';
async function main() {
  const [wl, cpus, from, to, strat] = process.argv.slice(2);
  for (let seed = Number(from); seed <= Number(to); seed++) {
    const r = await runMachine({ ...DEFAULTS, workload: wl, cpus: Number(cpus), memBytes: 4 << 20, hostMemBytes: 512 << 10, hinting: 'full', mode: 'sim', strategy: (strat ?? 'random') as 'random', ops: 20000, seed });
    if (r.violations.length) console.log(wl, cpus, seed, r.violations[0].oracle, r.violations[0].message.slice(0, 160));
  }
}
main().then(() => process.exit(0));
