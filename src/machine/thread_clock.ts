/**
 * How long the threads of this process had the opportunity to run: for the threads-mode
 * watchdog, which must not take "descheduled by load" for "made no progress".
 *
 * Linux keeps, per thread, the time it spent on a CPU and the time it spent runnable but
 * waiting for one (/proc/self/task/TID/schedstat: exec_ns run_delay_ns timeslices), and its
 * state (/proc/self/task/TID/stat, the field after the command name). A wait is added to
 * run_delay only when it ends (the thread gets a CPU), so a thread found runnable (R) at a
 * sample may be in a wait that is not counted yet. Hence an interval (between two samples)
 * is settled one sample later, with a lower bound of the time the thread was not waiting:
 *   - asleep (S, D, ...) at the end of the interval: every wait in it has ended, so
 *     wall - delta(run_delay);
 *   - runnable at the end, and it ran in the next interval: the wait it was in has ended
 *     within the next interval, so it is in that interval's delta(run_delay) too:
 *     wall - delta(run_delay) - next delta(run_delay);
 *   - runnable at the end and not run since: it may have waited all along, so 0;
 * and in every case at least its CPU time in the interval. A wait that began before the
 * interval is charged to it as well: every error is an under-count. So a deadlocked thread
 * sleeping in spinWait (sched.ts) or one spinning on a CPU is credited about the time it
 * ran or slept, and a thread the machine did not schedule, nothing.
 *
 * The watchdog takes the least of this over every thread of the process but its own: the
 * machine's workers, and also the runtime's helpers they may wait for without a trace in
 * shared memory (V8's platform threads run the parallel parts of every worker's garbage
 * collection: seen under load, all five workers of a run blocked on a futex for 60 ms while
 * two platform threads waited for a CPU). Idle threads sleep, so they never hold it down.
 *
 * Where /proc is missing (not Linux), settledMs() returns -1 and the watchdog falls back to
 * wall time with its own lateness removed (run.ts).
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

/** This OS thread's id, 0 when the system does not say. */
export function osThreadId(): number {
  try {
    const tid = Number.parseInt(readFileSync('/proc/thread-self/stat', 'latin1'), 10);
    return Number.isInteger(tid) && tid > 0 ? tid : 0;
  } catch {
    return 0;
  }
}

/** Bytes read from one /proc file at most (stat is about 300; a longer one is cut, never overrun). */
const READ_BYTES_MAX = 1024;
/** sample(): the thread could not be read (exited, or no schedstat in this kernel); read, but no interval to settle yet. */
const UNREADABLE = -2, UNSETTLED = -1;
const CH_0 = 0x30, CH_9 = 0x39, CH_SPACE = 0x20, CH_PAREN_CLOSE = 0x29, CH_R = 0x52, CH_T = 0x54, CH_t = 0x74;

/**
 * One thread: its files, its last sample (exec and run delay in ns, wall in ms) and the
 * interval that ended there, not settled yet (wall, exec, run delay in ms; asleep at its end).
 */
interface Watched {
  statFd: number; schedFd: number; seen: number;
  primed: boolean; execNs: number; delayNs: number; wallMs: number;
  open: boolean; openWallMs: number; openExecMs: number; openDelayMs: number; openAsleep: boolean;
}

export class ThreadClock {
  private readonly buf = Buffer.alloc(READ_BYTES_MAX);
  private readonly threads = new Map<number, Watched>();
  private generation = 0;

  /** `selfTid`: the watchdog's own thread (it is running whenever it looks), never sampled. */
  constructor(private readonly selfTid: number) {}

  /**
   * Sample every other thread of the process at `nowMs` and settle the interval before
   * the one that ends now: the least opportunity (ms) any of them had in it (0 while no
   * thread has been seen three times); -1 when the system does not say (no /proc, or no
   * schedstat in it).
   */
  settledMs(nowMs: number): number {
    if (this.selfTid <= 0) return -1;
    let names: string[];
    try {
      names = readdirSync('/proc/self/task');
    } catch {
      return -1;
    }
    const gen = ++this.generation;
    let minMs = Number.POSITIVE_INFINITY;
    let readable = 0;
    for (const name of names) {
      const tid = Number.parseInt(name, 10);
      if (tid === this.selfTid || !(tid > 0)) continue;
      let t = this.threads.get(tid);
      if (t === undefined) {
        const opened = this.open(tid);
        if (opened === null) continue; // exited since the listing
        t = opened;
        this.threads.set(tid, t);
      }
      t.seen = gen;
      const ms = this.sample(t, nowMs);
      if (ms !== UNREADABLE) readable++;
      if (ms >= 0 && ms < minMs) minMs = ms;
    }
    for (const [tid, t] of this.threads) {
      if (t.seen !== gen) { this.drop(t); this.threads.delete(tid); }
    }
    if (readable === 0) return -1;
    return minMs === Number.POSITIVE_INFINITY ? 0 : minMs;
  }

  /** Close every file (the run is over). */
  close(): void {
    for (const t of this.threads.values()) this.drop(t);
    this.threads.clear();
  }

  /** Sample one thread: the opportunity (ms) it had in its previous interval, now settled; or UNSETTLED, UNREADABLE. */
  private sample(t: Watched, nowMs: number): number {
    // The state first: a thread asleep then has every wait that ended before it in the
    // run_delay read next (one it began since is a few microseconds old at most).
    const nStat = this.read(t.statFd);
    if (nStat <= 0) return UNREADABLE;
    const state = this.state(nStat);
    const nSched = this.read(t.schedFd);
    if (nSched <= 0 || state < 0) return UNREADABLE;
    const exec = this.number(0, nSched);
    const delay = this.number(this.after(0, nSched), nSched);
    if (exec < 0 || delay < 0) return UNREADABLE;
    const wallMs = nowMs - t.wallMs, execMs = (exec - t.execNs) / 1e6, delayMs = (delay - t.delayNs) / 1e6;
    const wasPrimed = t.primed;
    t.primed = true; t.execNs = exec; t.delayNs = delay; t.wallMs = nowMs;
    if (!wasPrimed) return UNSETTLED;
    let settled = UNSETTLED;
    if (t.open) {
      const notWaitingMs = t.openAsleep ? t.openWallMs - t.openDelayMs // its waits had all ended
        : execMs > 0 ? t.openWallMs - t.openDelayMs - delayMs          // the wait it was in ended since
          : 0;                                                         // maybe waiting all along
      settled = Math.min(t.openWallMs, Math.max(0, t.openExecMs, notWaitingMs));
    }
    const runnable = state === CH_R || state === CH_T || state === CH_t;
    t.open = true; t.openWallMs = wallMs; t.openExecMs = execMs; t.openDelayMs = delayMs; t.openAsleep = !runnable;
    return settled;
  }

  private open(tid: number): Watched | null {
    let statFd = -1;
    try {
      statFd = openSync(`/proc/self/task/${tid}/stat`, 'r');
      const schedFd = openSync(`/proc/self/task/${tid}/schedstat`, 'r');
      return {
        statFd, schedFd, seen: 0, primed: false, execNs: 0, delayNs: 0, wallMs: 0,
        open: false, openWallMs: 0, openExecMs: 0, openDelayMs: 0, openAsleep: false,
      };
    } catch {
      if (statFd >= 0) closeSync(statFd);
      return null;
    }
  }

  private drop(t: Watched): void {
    closeSync(t.statFd);
    closeSync(t.schedFd);
  }

  /** Bytes read at position 0 (a seq_file renders afresh), -1 on error (the thread exited). */
  private read(fd: number): number {
    try {
      return readSync(fd, this.buf, 0, READ_BYTES_MAX, 0);
    } catch {
      return -1;
    }
  }

  /** The decimal number starting at `at` (-1 if none). */
  private number(at: number, end: number): number {
    let x = 0, i = at;
    for (; i < end; i++) {
      const c = this.buf[i];
      if (c < CH_0 || c > CH_9) break;
      x = x * 10 + (c - CH_0);
    }
    return i === at ? -1 : x;
  }

  /** The index after the first space at or past `at`. */
  private after(at: number, end: number): number {
    let i = at;
    while (i < end && this.buf[i] !== CH_SPACE) i++;
    return i + 1;
  }

  /** The state letter of a stat line: two bytes past the last ')' (the command may hold any). */
  private state(end: number): number {
    let i = end - 1;
    while (i >= 0 && this.buf[i] !== CH_PAREN_CLOSE) i--;
    return i >= 0 && i + 2 < end ? this.buf[i + 2] : -1;
  }
}
