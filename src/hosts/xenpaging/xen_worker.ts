/**
 * The xenpaging host's participants, one worker each (--host xenpaging):
 *   pager  (participant ncpus)      the dom0 pager's main loop (host/xenpaging.ts)
 *   dom0   (participant ncpus + 1)  backends and qemu mapping guest frames (host/dom0.ts)
 * Both run until main sets CTL_STATE to done (threads mode) or, in sim mode, while some
 * guest CPU still runs; then the pager pages everything back in (as on SIGTERM) and dom0
 * drops every mapping. The pager sleeps on its event channel when idle, dom0 on the
 * guest's doorbell (sim mode: not runnable until kicked).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { dom0Batch, dom0Exit, dom0Init } from './dom0.js';
import { pagerExit, pagerHasWork, pagerInit, pagerPass } from './xenpaging.js';
import { ctxInit } from '../../core/ctx.js';
import { installHooks } from '../../core/hooks.js';
import { hwInit } from '../../core/hw.js';
import { injectInit } from '../../core/inject.js';
import { CTL_MODE, CTL_NCPUS, CTL_STATE, PA_HEARTBEAT, PA_STATE, Views, XH_DOM0_KICK, XH_PAGER_KICK, paWord, CS_DONE, PS_DONE, PS_IDLE, PS_RUNNING } from '../../core/layout.js';
import { SP_SPIN, setPointRing, setSimHook, sp } from '../../core/sched.js';
import { simExit, simInstall, waitBaton } from '../../sim/sim.js';
import { storyInit } from '../../sim/story_rec.js';
import { keysInit } from '../../sim/keys.js';
import { XEN_STORY_WORD } from './p2m.js';
import { traceInit } from '../../core/trace.js';
import { XV, xenViewsInit } from './xen_views.js';
import { XEN_HOOKS } from './hooks.js';
import type { WorkerInit } from '../../machine/worker_pool.js';

let init: WorkerInit;
let v: Views;
let sim = false;

/** Bind to a machine (again, when the worker is reused): every per-run module state is reset here. */
function attach(i: WorkerInit): void {
  init = i;
  v = new Views(i.sab, i.nframes, i.ncpus);
  ctxInit(v, i.me);
  xenViewsInit(v, i.me);
  installHooks(XEN_HOOKS);
  traceInit(i.me === i.ncpus ? i.traceSab : null, i.me); // the pager uses the host's trace track
  storyInit(i.storySab, XEN_STORY_WORD.read);
  keysInit(i.keysSab);
  setPointRing(i.ringSab, i.me);
  hwInit();
  injectInit();
  sim = v.hdr[CTL_MODE] === 1;
  setSimHook(null);
  if (sim) simInstall();
  if (i.me === i.ncpus) pagerInit(); else dom0Init();
}
attach(workerData as WorkerInit);

const done = (): boolean => Atomics.load(v.hdr, CTL_STATE) >= CS_DONE; // main's store after the run; seen within one loop turn

/** Sim mode: some guest CPU still runs its steps (a paused vCPU stays runnable: it spins). */
function guestActive(): boolean {
  for (let c = 0; c < v.hdr[CTL_NCPUS]; c++) if (Atomics.load(v.pa, paWord(c, PA_STATE)) === PS_RUNNING) return true; // owners store it (simExit)
  return false;
}

/** Sim mode: not runnable until a kick makes us runnable again (xen_ring.ts simWake). */
function simIdle(): void {
  // Baton holder: the scheduler reads PA_STATE when it chooses; a kick stores PS_RUNNING back (xen_ring.ts simWake).
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_IDLE);
  sp(SP_SPIN, 0);
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_RUNNING);
}

// Heartbeats and PA_STATE: Atomics.store by the owner, the watchdog on the main thread loads them.
function runPager(): number {
  const hb = paWord(init.me, PA_HEARTBEAT);
  let beats = 0;
  if (sim) {
    waitBaton();
    while (!done() && guestActive()) {
      if (pagerPass() === 0 && !pagerHasWork()) simIdle();
      Atomics.store(v.pa, hb, ++beats);
    }
    pagerExit();
    simExit();
    return beats;
  }
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_RUNNING);
  while (!done()) {
    // Clear the pending bit, then look: a kick after the clear is seen by the wait below.
    Atomics.store(XV.x, XH_PAGER_KICK, 0);
    // wait returns at once if a kick stored 1 after our clear (seq-cst): no lost wake-up; 5 ms bound.
    if (pagerPass() === 0 && !pagerHasWork()) Atomics.wait(XV.x, XH_PAGER_KICK, 0, 5); // the idle poll (100 ms upstream)
    Atomics.store(v.pa, hb, ++beats);
  }
  pagerExit();
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_DONE);
  return beats;
}

function runDom0(): number {
  const hb = paWord(init.me, PA_HEARTBEAT);
  let beats = 0;
  if (sim) {
    waitBaton();
    while (!done() && guestActive()) {
      dom0Batch();
      simIdle(); // until the guest rings the doorbell again
      Atomics.store(v.pa, hb, ++beats);
    }
    dom0Exit();
    simExit();
    return beats;
  }
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_RUNNING);
  while (!done()) {
    Atomics.store(XV.x, XH_DOM0_KICK, 0);
    dom0Batch();
    Atomics.wait(XV.x, XH_DOM0_KICK, 0, 2); // a ring after the clear makes it return at once; 2 ms bound
    Atomics.store(v.pa, hb, ++beats);
  }
  dom0Exit();
  Atomics.store(v.pa, paWord(init.me, PA_STATE), PS_DONE);
  return beats;
}

const api = {
  attach,
  run(): number {
    return init.me === init.ncpus ? runPager() : runDom0();
  },
};
export type XenApi = typeof api;
Comlink.expose(api, nodeEndpoint(parentPort!));
