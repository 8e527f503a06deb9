/**
 * The floor of a sim-mode switch: two worker threads handing one SharedArrayBuffer word
 * back and forth with Atomics.wait / Atomics.notify, nothing else. sim.ts's baton does the
 * same (store the next participant's id, notify, wait until the word names us again) plus
 * the scheduling decision and its log entry; `hintsim bench --only switch` measures one
 * against the other in the same run.
 */
import { Worker } from 'node:worker_threads';

/*
 * Worker body (plain JS, eval'd: no bundling). Word 0 names whose turn it is (0 or 1),
 * word 1 counts started workers. Each worker, `rounds` times: wait until word 0 is its id,
 * then store the other id and notify. The store is seq-cst and the waiter re-reads the
 * word after every wake, so a notify that comes before the wait is never lost.
 */
const BODY = `
const { workerData, parentPort } = require('node:worker_threads');
const w = new Int32Array(workerData.sab);
const me = workerData.me, other = 1 - me, rounds = workerData.rounds;
Atomics.add(w, 1, 1);
while (Atomics.load(w, 1) < 2) Atomics.wait(w, 1, Atomics.load(w, 1), 1);
for (let i = 0; i < rounds; i++) {
  while (Atomics.load(w, 0) !== me) Atomics.wait(w, 0, other, 200);
  Atomics.store(w, 0, other);
  Atomics.notify(w, 0);
}
parentPort.postMessage('done');
`;

/** Nanoseconds per handoff (half a round trip) over `rounds` round trips. */
export async function pingPongHandoffNs(rounds: number): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const w = new Int32Array(sab);
  w[0] = -1; // nobody's turn until both are up
  const workers = [0, 1].map((me) => new Worker(BODY, { eval: true, workerData: { sab, me, rounds } }));
  try {
    const done = workers.map((wk) => new Promise<void>((res, rej) => { wk.once('message', () => res()); wk.once('error', rej); }));
    while (Atomics.load(w, 1) < 2) await new Promise((r) => setTimeout(r, 1));
    const t0 = performance.now();
    Atomics.store(w, 0, 0); // worker 0 starts
    Atomics.notify(w, 0);
    await Promise.all(done);
    const ms = performance.now() - t0;
    return (ms * 1e6) / (2 * rounds);
  } finally {
    await Promise.all(workers.map((wk) => wk.terminate()));
  }
}
