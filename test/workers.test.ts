/**
 * No worker outlives runMachine: when it resolves (a clean run or one that hung and was cut
 * off by the watchdog) every CPU and host worker thread has been terminated. Checked two
 * ways: the worker MessagePorts among the process's active resources, and (on Linux) the
 * process's OS thread count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RunOptions } from '../src/machine/config.js';
import { runMachine } from '../src/machine/run.js';

const OPTS: RunOptions = { ...DEFAULTS, cpus: 3, memBytes: 16 << 20, seconds: null, ops: 20_000 };

const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
const hasProc = existsSync('/proc/self/status');
const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

describe('worker lifetime', () => {
  it('workers exist while a run is going and are all gone when runMachine resolves', async () => {
    await runMachine(OPTS); // warm-up: lazily started runtime threads are not the machine's
    const ports0 = ports();
    const threads0 = hasProc ? threads() : 0;

    // A run that cannot finish on its own: CPU 0 spins forever holding the zone lock.
    // runMachine creates its workers before its first await, so they can be counted as
    // soon as the call returns its promise.
    const p = runMachine({ ...OPTS, ops: null, seconds: 30, debugFaults: ['hang'], watchdogMs: 300 });
    const inFlightPorts = ports();
    const inFlightThreads = hasProc ? threads() : 0;
    const r = await p;

    expect(r.violations.some((v) => v.oracle === 'liveness' && v.cpu === 0)).toBe(true);
    // The check is able to see workers: 3 CPUs + the host were running a moment ago.
    expect(inFlightPorts).toBeGreaterThanOrEqual(ports0 + OPTS.cpus + 1);
    if (hasProc) expect(inFlightThreads).toBeGreaterThanOrEqual(threads0 + OPTS.cpus + 1);
    // ... and none of them is left.
    expect(ports()).toBe(ports0);
    if (hasProc) expect(threads()).toBe(threads0);

    // Same for a clean run.
    const r2 = await runMachine(OPTS);
    expect(r2.violations).toEqual([]);
    expect(ports()).toBe(ports0);
    if (hasProc) expect(threads()).toBe(threads0);
  });
});
