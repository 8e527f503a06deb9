/**
 * The machine's participant workers (guest CPUs, host), optionally kept for the next run.
 * Starting a worker costs about 0.1 s (module load, bundle evaluation); a hunt or a stress
 * run does hundreds of short runs, so with reuse on, a finished run's workers wait here,
 * unref'd (they never keep the process alive), and the next run re-attaches them to its
 * machine (`attach` rebinds every piece of per-machine state; test/sim.test.ts checks that
 * a reused worker gives the same trace_hash as a fresh one). A worker that crashed or hung
 * is never reused: it is terminated.
 */
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { workerExecArgv, workerUrl } from './worker_url.js';

export interface WorkerInit {
  sab: SharedArrayBuffer; nframes: number; ncpus: number; me: number; traceSab: SharedArrayBuffer | null;
  /** The story recorder's area (sim/story_rec.ts; replay --story), null when not recording. */
  storySab?: SharedArrayBuffer | null;
  /** The keyed-schedule area (sim/keys.ts): recorded runs and keyed replays; null otherwise. */
  keysSab?: SharedArrayBuffer | null;
  /** Threads mode: the point ring area (core/point_ring.ts), null when not recording. */
  ringSab?: SharedArrayBuffer | null;
}

export interface MachineWorker<T = unknown> {
  name: string;
  worker: Worker;
  api: Comlink.Remote<T>;
}

const MAX_IDLE = 12;
let reuse = false;
const idle: MachineWorker[] = [];
let started = 0;

/** Workers started in this thread so far (tests: a reused run starts none). */
export function workersStarted(): number {
  return started;
}

/**
 * Keep finished runs' workers for the next run in this thread (hunt and stress tasks).
 * Turning it off keeps what is idle: the caller awaits releaseIdleWorkers() to end them.
 */
export function setWorkerReuse(on: boolean): void {
  reuse = on;
}

export function workerReuse(): boolean {
  return reuse;
}

export async function acquireWorker<T>(name: string, init: WorkerInit): Promise<MachineWorker<T>> {
  if (reuse) {
    const i = idle.findIndex((w) => w.name === name);
    if (i >= 0) {
      const w = idle.splice(i, 1)[0] as MachineWorker<T>;
      w.worker.ref();
      try {
        await (w.api as unknown as { attach(i: WorkerInit): Promise<void> }).attach(init);
        return w;
      } catch {
        void w.worker.terminate(); // a broken worker: start a fresh one
      }
    }
  }
  const worker = new Worker(workerUrl(name), { workerData: init, execArgv: workerExecArgv() });
  started++;
  return { name, worker, api: Comlink.wrap<T>(nodeEndpoint(worker)) };
}

/** Done with a run's worker: keep it (healthy and reuse on) or terminate it. */
export async function releaseWorker(w: MachineWorker, healthy: boolean): Promise<void> {
  if (reuse && healthy && idle.length < MAX_IDLE) {
    w.worker.unref();
    idle.push(w as MachineWorker);
    return;
  }
  await w.worker.terminate();
}

/** Terminate every kept worker. */
export async function releaseIdleWorkers(): Promise<void> {
  const all = idle.splice(0);
  await Promise.all(all.map((w) => w.worker.terminate()));
}
