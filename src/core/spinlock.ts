/**
 * Spinlocks on Int32 words in shared memory. Word value: 0 free, otherwise owner + 1,
 * with LOCK_WAITERS set while a waiter may sleep on the word (threads mode only).
 * Acquire is a CAS 0 -> owner+1 (Atomics are sequentially consistent, so everything the
 * previous holder stored before its release is visible after our CAS succeeds).
 * Release is an exchange with 0 (paired with the next acquirer's CAS); a release that finds
 * LOCK_WAITERS wakes one sleeper.
 *
 * Waiting (threads mode) is spin-then-wait, as a futex mutex (Drepper, "Futexes are
 * tricky", mutex 2): LOCK_SPIN failed attempts spin (the holder is usually running on the
 * other core and about to let go), then the waiter sets LOCK_WAITERS and sleeps on the word
 * until the holder's release notifies it. A waiter that slept acquires with LOCK_WAITERS set,
 * since other sleepers may remain: its own release then wakes the next one. On 2 cores
 * with a host worker a spinning waiter takes the core its preempted holder needs; a
 * sleeping one gives it back and is woken at the release, not at the end of a fixed sleep.
 * In sim mode a waiter yields the baton (sched.ts spinWait) and the bit is never set.
 */
import { V } from './ctx.js';
import { O, report } from './oracles.js';
import * as SCHED from './sched.js';
import { STEPS, simActive, spinClock, spinPoll, spinSlept, spinWait } from './sched.js';
import { T_LOCK_WAIT, tr } from './trace.js';

// This module's own constants (V8 folds them into optimised code; an imported binding is a
// cell load and a hole check at every use, see page_alloc.ts).
const { SP_LOCK, SP_UNLOCK, sp } = SCHED;

/** Set in a lock word while a waiter may be asleep on it (threads mode). */
export const LOCK_WAITERS = 0x4000_0000;
/** Failed attempts that spin before a waiter sleeps (threads mode). */
export const LOCK_SPIN = 64;
/** Upper bound of one sleep (ms): a safety net only, the release's notify is what wakes a waiter. */
const LOCK_SLEEP_MS = 5;

/** Returns the number of failed attempts (0 = uncontended). */
export function spinLock(words: Int32Array, idx: number, owner: number): number {
  sp(SP_LOCK, idx);
  let attempt = 0;
  let mark = 0; // LOCK_WAITERS once this waiter has slept
  for (;;) {
    // CAS: acquire (seq-cst: the previous holder's stores before its release are visible).
    const w = Atomics.compareExchange(words, idx, 0, (owner + 1) | mark);
    if (w === 0) break;
    if (attempt < LOCK_SPIN || simActive()) { spinWait(attempt++, idx); continue; }
    spinPoll(attempt++);
    // Announce a sleeper (CAS, so a release in between is not missed), then sleep while the
    // word still holds that value: a release stores 0 first and then notifies, so either
    // the wait sees a changed word and returns at once or the notify wakes it.
    if ((w & LOCK_WAITERS) === 0 && Atomics.compareExchange(words, idx, w, w | LOCK_WAITERS) !== w) continue;
    mark = LOCK_WAITERS;
    spinClock(attempt); // the spinning since the last failed attempt (attempt > 0 here)
    Atomics.wait(words, idx, w | LOCK_WAITERS, LOCK_SLEEP_MS);
    spinSlept();
  }
  if (attempt > 0) tr(T_LOCK_WAIT, attempt);
  return attempt;
}

export function spinTrylock(words: Int32Array, idx: number, owner: number): boolean {
  sp(SP_LOCK, idx);
  return Atomics.compareExchange(words, idx, 0, owner + 1) === 0;
}

/**
 * Release. A word not held by `owner` is a bug_on violation, reported by `onBug` when given
 * (a host that names its lock) or else by the one static reporter below: callers on hot
 * paths pass no closure, so an unlock allocates nothing.
 */
export function spinUnlock(words: Int32Array, idx: number, owner: number, onBug?: (msg: string) => void): void {
  const was = Atomics.exchange(words, idx, 0); // release: pairs with the next CAS acquire
  if ((was & LOCK_WAITERS) !== 0) Atomics.notify(words, idx, 1); // after the store: the sleeper re-reads 0
  if ((was & ~LOCK_WAITERS) !== owner + 1) {
    const msg = `spin_unlock: lock word ${idx} held by ${(was & ~LOCK_WAITERS) - 1}, not by ${owner}`;
    if (onBug !== undefined) onBug(msg); else report(V, O.bug_on, -1, owner, STEPS, msg);
  }
  sp(SP_UNLOCK, idx);
}
