/**
 * The host: one worker playing the hypervisor's reclaim daemon. It sleeps on HOST_KICK
 * until a guest pushes residency past the budget (or a short timeout passes), then runs
 * a clock reclaim pass. It stops when main sets CTL_STATE to done (CS_DONE).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { injHostBudget, injTouchedPfn, injectInit } from '../core/inject.js';
import { traceInit } from '../core/trace.js';
import { attachHost, hostDaemon, hostOf, type HostDaemon } from '../hosts/index.js';
import { CTL_HOST_BUDGET, CTL_MODE, CTL_NCPUS, CTL_STATE, HOST_KICK, HOST_RESIDENT, PA_HEARTBEAT, PA_STATE, Views, paWord, CS_DONE, PS_DONE, PS_IDLE, PS_RUNNING } from '../core/layout.js';
import { SP_HOST, SP_SPIN, setPointRing, setSimHook, sp } from '../core/sched.js';
import { hwInit } from '../core/hw.js';
import { simExit, simInstall, waitBaton } from '../sim/sim.js';
import { storyInit } from '../sim/story_rec.js';
import { keysInit } from '../sim/keys.js';

interface Init { sab: SharedArrayBuffer; nframes: number; ncpus: number; me: number; traceSab: SharedArrayBuffer | null; storySab?: SharedArrayBuffer | null; keysSab?: SharedArrayBuffer | null; ringSab?: SharedArrayBuffer | null }
let init: Init;
let v: Views;
let sim = false;
let daemon: HostDaemon; // the running host's reclaim (--host shadow: a pass also runs KVM's mmu shrinker)

/** Bind the host to a machine (again, when the worker is reused for the next run). */
function attach(i: Init): void {
  init = i;
  v = new Views(i.sab, i.nframes, i.ncpus);
  attachHost(v, i.me);
  traceInit(i.traceSab, i.me);
  storyInit(i.storySab, hostOf(v).storyWord?.read);
  keysInit(i.keysSab);
  setPointRing(i.ringSab, i.me);
  hwInit();
  sim = v.hdr[CTL_MODE] === 1;
  const d = hostDaemon(hostOf(v));
  if (!d) throw new Error(`host_worker: host ${hostOf(v).name} has no daemon`);
  daemon = d;
  setSimHook(null);
  if (sim) simInstall();
  injectInit();
}
attach(workerData as Init);

/** Sim mode: the host takes part only while some guest CPU still runs. */
function cpusRunning(): boolean {
  for (let c = 0; c < v.hdr[CTL_NCPUS]; c++) if (Atomics.load(v.pa, paWord(c, PA_STATE)) === PS_RUNNING) return true;
  return false;
}

const done = (): boolean => Atomics.load(v.hdr, CTL_STATE) >= CS_DONE;

/** Fault injection at the top of each loop turn: reclaim the frame a guest just touched; the budget to use. */
function injectTick(budget: number): number {
  const t = injTouchedPfn();
  if (t >= 0) { sp(SP_HOST, t); daemon.frame(t, false); }
  return injHostBudget(budget);
}

const api = {
  attach,
  run(): number {
    const pa = v.pa;
    const hb = paWord(init.me, PA_HEARTBEAT);
    let beats = 0;
    const budget = v.hdr[CTL_HOST_BUDGET];
    if (sim) {
      waitBaton();
      while (!done() && cpusRunning()) {
        const b = injectTick(budget);
        if (Atomics.load(v.hdr, HOST_RESIDENT) > b) { daemon.pass(done, b); daemon.afterPass(); }
        else {
          // Nothing to do: wait (not runnable) until a guest pushes residency past the budget.
          Atomics.store(pa, paWord(init.me, PA_STATE), PS_IDLE);
          sp(SP_SPIN, 0);
          Atomics.store(pa, paWord(init.me, PA_STATE), PS_RUNNING);
        }
        Atomics.store(pa, hb, ++beats);
      }
      simExit();
      return beats;
    }
    Atomics.store(pa, paWord(init.me, PA_STATE), PS_RUNNING);
    while (!done()) {
      const b = injectTick(budget);
      if (Atomics.load(v.hdr, HOST_RESIDENT) > b) {
        daemon.pass(done, b);
        daemon.afterPass();
      } else {
        // Clear the kick, re-check, then sleep: a guest that raises residency after our
        // check stores 1 and notifies, so the wait returns at once (no lost wake-up).
        Atomics.store(v.hdr, HOST_KICK, 0);
        if (Atomics.load(v.hdr, HOST_RESIDENT) <= budget) Atomics.wait(v.hdr, HOST_KICK, 0, 5);
      }
      Atomics.store(pa, hb, ++beats);
    }
    Atomics.store(pa, paWord(init.me, PA_STATE), PS_DONE);
    return beats;
  },
};
export type HostApi = typeof api;
Comlink.expose(api, nodeEndpoint(parentPort!));
