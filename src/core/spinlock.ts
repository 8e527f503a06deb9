/**
 * Spinlocks on Int32 words in shared memory. Word value: 0 free, otherwise owner + 1.
 * Acquire is a CAS 0 -> owner+1 (Atomics are sequentially consistent, so everything the
 * previous holder stored before its release store is visible after our CAS succeeds).
 * Release is a store of 0 (paired with the next acquirer's CAS).
 * Waiters spin briefly then sleep in short bounded waits (sched.ts spinWait); in sim mode
 * a waiter yields the baton so the paused holder can run.
 */
import { SP_LOCK, SP_UNLOCK, sp, spinWait } from './sched.js';
import { T_LOCK_WAIT, tr } from './trace.js';

/** Returns the number of failed attempts (0 = uncontended). */
export function spinLock(words: Int32Array, idx: number, owner: number): number {
  sp(SP_LOCK, idx);
  let attempt = 0;
  while (Atomics.compareExchange(words, idx, 0, owner + 1) !== 0) {
    spinWait(attempt++, idx);
  }
  if (attempt > 0) tr(T_LOCK_WAIT, attempt);
  return attempt;
}

export function spinTrylock(words: Int32Array, idx: number, owner: number): boolean {
  sp(SP_LOCK, idx);
  return Atomics.compareExchange(words, idx, 0, owner + 1) === 0;
}

export function spinUnlock(words: Int32Array, idx: number, owner: number, onBug: (msg: string) => void): void {
  const was = Atomics.exchange(words, idx, 0); // release: pairs with the next CAS acquire
  if (was !== owner + 1) onBug(`spin_unlock: lock word ${idx} held by ${was - 1}, not by ${owner}`);
  sp(SP_UNLOCK, idx);
}
