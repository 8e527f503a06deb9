/**
 * Build Chrome trace-event JSON (Perfetto, chrome://tracing) from the participants'
 * trace rings and the main thread's counter samples.
 */
import { TRACE_EVENTS, TRACE_HEADER, TRACE_NAMES, TRACE_PER_PARTICIPANT, TRACE_SLOT } from '../core/trace.js';
import { ORACLES } from '../core/oracles.js';

export interface TraceEvent { name: string; ph: string; ts: number; pid: number; tid: number; args?: Record<string, unknown>; s?: string }
export interface CounterSample { ts: number; free: number; volatile: number; resident: number }

export function buildTrace(sab: SharedArrayBuffer, ncpus: number, sim: boolean, samples: CounterSample[]): { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> } {
  const raw: { ts: number; tid: number; code: number; arg: number }[] = [];
  let dropped = 0;
  for (let p = 0; p <= ncpus; p++) {
    const buf = new Float64Array(sab, p * TRACE_PER_PARTICIPANT * 8, TRACE_PER_PARTICIPANT);
    const n = buf[0];
    const first = Math.max(0, n - TRACE_EVENTS);
    dropped += first;
    for (let k = first; k < n; k++) {
      const b = TRACE_HEADER + (k % TRACE_EVENTS) * TRACE_SLOT;
      raw.push({ code: buf[b], arg: buf[b + 1], ts: buf[b + 2], tid: p });
    }
  }
  // Threads mode: µs from the first event. Sim mode: the step itself, so that a violation's
  // step and a replay file's schedule decisions line up with the trace.
  const t0 = sim ? 0 : Math.min(...raw.map((e) => e.ts), ...samples.map((s) => s.ts), Infinity);
  const base = Number.isFinite(t0) ? t0 : 0;
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: sim ? 'hintsim (sim mode: ts = scheduling step)' : 'hintsim' } },
  ];
  for (let p = 0; p <= ncpus; p++) {
    events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: p, args: { name: p === ncpus ? 'host' : `cpu ${p}` } });
  }
  // Per participant in time order; an end whose begin fell off the ring is dropped, and
  // slices still open at the end are closed at the participant's last timestamp.
  for (let p = 0; p <= ncpus; p++) {
    const mine = raw.filter((e) => e.tid === p); // already in recording order
    const open: string[] = [];
    let last = 0;
    for (const e of mine) {
      const [name, ph] = TRACE_NAMES[e.code] ?? ['?', 'i'];
      const ts = e.ts - base;
      last = ts;
      if (ph === 'E') { if (open.length === 0) continue; open.pop(); }
      if (ph === 'B') open.push(name);
      const args = e.code === 9 ? { oracle: ORACLES[e.arg] ?? e.arg } : { arg: e.arg };
      events.push({ name, ph, ts, pid: 1, tid: p, args, ...(ph === 'i' ? { s: e.code === 9 ? 'g' : 't' } : {}) });
    }
    while (open.length) events.push({ name: open.pop()!, ph: 'E', ts: last, pid: 1, tid: p });
  }
  for (const s of samples) {
    events.push({ name: 'frames', ph: 'C', ts: s.ts - base, pid: 1, tid: 0, args: { free: s.free, volatile: s.volatile, resident: s.resident } });
  }
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { tool: 'hintsim', mode: sim ? 'sim' : 'threads', dropped_events: dropped } };
}
