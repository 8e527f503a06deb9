import { runMachine } from '/work/main/src/machine/run.ts';
import { DEFAULTS } from '/work/main/src/machine/config.ts';
const names = process.argv.slice(2);
for (const n of names) {
  const t0 = Date.now();
  const r = await runMachine({ ...DEFAULTS, cpus: 2, seconds: 1, debugFaults: n === 'none' ? [] : [n], workloadOptions: { wave: 20000 }, watchdogMs: n === 'hang' ? 500 : DEFAULTS.watchdogMs });
  console.log(n, Date.now() - t0, 'ms planted', r.planted_pfn, 'ops', r.ops, JSON.stringify(r.violations.map(v => ({ o: v.oracle, pfn: v.pfn, cpu: v.cpu, step: v.step, m: v.message.slice(0, 300) })), null, 1));
}
