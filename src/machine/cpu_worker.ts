/**
 * A guest CPU: a worker thread that runs one workload task on the shared machine.
 * Control while busy goes through shared words (CTL_STATE); the comlink API below is for
 * the idle times around a run (configure, run, finish, snapshot, dump a page).
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { findWorkload } from '../../workloads/index.js';
import type { CpuTask } from '../../workloads/workload.js';
import { pageAllocInit } from '../guest/page_alloc.js';
import { pageStatesInit } from '../guest/page_states.js';
import { dumpPage, type PageDump } from '../core/assert.js';
import { traceInit } from '../core/trace.js';
import { CNT } from '../core/ctx.js';
import { attachHost, hostOf } from '../hosts/index.js';
import { C } from '../core/counters.js';
import { CTL_MODE, CTL_STATE, PA_HEARTBEAT, PA_LAST_STEP, PA_STATE, PCP_BASE, PCP_COUNT, PCP_STRIDE, Views, paWord, CS_RUN, PS_DONE, PS_RUNNING } from '../core/layout.js';
import { violationCount } from '../core/oracles.js';
import { simExit, simInstall, waitBaton } from '../sim/sim.js';
import { storyInit } from '../sim/story_rec.js';
import { keysInit } from '../sim/keys.js';
import { injectInit } from '../core/inject.js';
import { hwInit } from '../core/hw.js';
import { memoryInit } from '../guest/memory.js';
import { page_reporting_tick } from '../guest/page_reporting.js';
import { H } from '../core/hooks.js';
import { ParticipantAbandoned, setPointRing, setSimHook, sleepTimeMs, spinTimeMs, spinTimeReset } from '../core/sched.js';

import type { WorkerInit } from './worker_pool.js';
let init: WorkerInit;
let v: Views;
let sim = false;
let task: CpuTask | null = null;
let me = 0;

/**
 * Bind this CPU to a machine: every module-level piece of guest state is set from the
 * machine's header here, so a worker reused for the next run (hunt, stress) starts from
 * exactly what a fresh one would.
 */
function attach(i: WorkerInit): void {
  init = i;
  me = i.me;
  v = new Views(i.sab, i.nframes, i.ncpus);
  attachHost(v, i.me);
  traceInit(i.traceSab, i.me);
  storyInit(i.storySab, hostOf(v).storyWord?.read);
  keysInit(i.keysSab);
  setPointRing(i.ringSab, i.me);
  hwInit();
  pageAllocInit();
  pageStatesInit();
  memoryInit();
  injectInit();
  sim = v.hdr[CTL_MODE] === 1;
  setSimHook(null);
  if (sim) simInstall();
  task = null;
}
attach(workerData as WorkerInit);

/**
 * Threads mode: `spin_ms` and `sleep_ms`, the time spent spinning and asleep on busy words
 * (sched.ts spinClock); `run_ms` the run loop's wall time; `cpu_ms` this thread's CPU time in
 * it (-1 where the system does not say).
 */
export interface CpuRunResult { ops: number; steps: number; spin_ms: number; sleep_ms: number; run_ms: number; cpu_ms: number }

/** This thread's CPU time in ms (Linux schedstat: time on a CPU), -1 when unknown. */
function threadCpuMs(): number {
  try {
    const ns = Number.parseInt(readFileSync('/proc/thread-self/schedstat', 'latin1'), 10);
    return Number.isFinite(ns) ? ns / 1e6 : -1;
  } catch {
    return -1;
  }
}

const api = {
  attach,
  configure(workload: string, seed: number, opts: Record<string, number>): void {
    const w = findWorkload(workload);
    if (!w) throw new Error(`unknown workload ${workload}`);
    task = w.createCpu(me, init.ncpus, seed, opts);
  },
  /** Run steps until the machine leaves the run state or `opsBudget` steps are done. */
  run(opsBudget: number): CpuRunResult {
    if (!task) throw new Error('run before configure');
    const t = task;
    const pa = v.pa;
    const hb = paWord(me, PA_HEARTBEAT);
    const last = paWord(me, PA_LAST_STEP);
    if (sim) waitBaton(); // main marked every participant runnable and named the first
    else Atomics.store(pa, paWord(me, PA_STATE), PS_RUNNING);
    let n = 0;
    spinTimeReset();
    const t0 = performance.now();
    const c0 = sim ? -1 : threadCpuMs();
    // CTL_STATE is read with Atomics.load each step: the stop request (main or a
    // violation report) becomes visible within one step.
    try {
      while (n < opsBudget && Atomics.load(v.hdr, CTL_STATE) === CS_RUN) {
        pa[last] = t.step();
        page_reporting_tick(); // free page reporting's delayed work, when due, runs here as a kworker on this CPU
        H.cpuTick();            // a host's timed work in this CPU's time slice (CMMA's migration worker)
        n++;
        Atomics.store(pa, hb, n); // watchdog reads it with Atomics.load
      }
    } catch (e) {
      if (!(e instanceof ParticipantAbandoned)) throw e; // e.g. xenpaging: a vCPU waiting for a page that will never come, after a violation
    }
    if (sim) simExit(); else Atomics.store(pa, paWord(me, PA_STATE), PS_DONE);
    const c1 = c0 < 0 ? -1 : threadCpuMs();
    return { ops: CNT[C.ops], steps: n, spin_ms: spinTimeMs(), sleep_ms: sleepTimeMs(), run_ms: performance.now() - t0, cpu_ms: c1 < 0 ? -1 : c1 - c0 };
  },
  /** Verify and release what the task owns (only after a clean run). */
  finish(): number[] {
    if (!task) return [];
    try {
      if (violationCount(v) === 0) task.finish();
    } catch (e) {
      if (!(e instanceof ParticipantAbandoned)) throw e;
    }
    return task.owned();
  },
  /** This CPU's state while idle: its pcp lists and its last step. */
  snapshot(): { cpu: number; pcp_hot: number; pcp_cold: number; last_step: number; heartbeat: number; ops: number } {
    const base = paWord(me, PCP_BASE);
    return {
      cpu: me, pcp_hot: v.pa[base + PCP_COUNT], pcp_cold: v.pa[base + PCP_STRIDE + PCP_COUNT],
      last_step: v.pa[paWord(me, PA_LAST_STEP)], heartbeat: Atomics.load(v.pa, paWord(me, PA_HEARTBEAT)), ops: CNT[C.ops],
    };
  },
  dumpPage(pfn: number): PageDump {
    return dumpPage(v, pfn);
  },
};
export type CpuApi = typeof api;
Comlink.expose(api, nodeEndpoint(parentPort!));
