/**
 * Build Chrome trace-event JSON (Perfetto, chrome://tracing) from the participants'
 * trace rings and the main thread's counter samples.
 */
import { TRACE_EVENTS, TRACE_HEADER, TRACE_NAMES, TRACE_PER_PARTICIPANT, TRACE_SLOT, TRACE_TRACKS } from '../core/trace.js';
import { ORACLES } from '../core/oracles.js';

export interface TraceEvent { name: string; ph: string; ts: number; pid: number; tid: number; args?: Record<string, unknown>; s?: string }
/** The tracks of TRACE_TRACKS, in order, once each. */
const TRACK_NAMES = [...new Set(Object.values(TRACE_TRACKS))];

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
      const code = buf[b];
      raw.push({ code, arg: buf[b + 1], ts: buf[b + 2], tid: code in TRACE_TRACKS ? -1 - TRACK_NAMES.indexOf(TRACE_TRACKS[code]) : p });
    }
  }
  // A track of its own (TRACE_TRACKS) after the participants', only when it has events.
  const used = TRACK_NAMES.filter((_, k) => raw.some((e) => e.tid === -1 - k));
  for (const e of raw) if (e.tid < 0) e.tid = ncpus + 1 + used.indexOf(TRACK_NAMES[-1 - e.tid]);
  // Threads mode: µs from the first event. Sim mode: the step itself, so that a violation's
  // step and a replay file's schedule decisions line up with the trace.
  const t0 = sim ? 0 : Math.min(...raw.map((e) => e.ts), ...samples.map((s) => s.ts), Infinity);
  const base = Number.isFinite(t0) ? t0 : 0;
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: sim ? 'hintsim (sim mode: ts = scheduling step)' : 'hintsim' } },
  ];
  for (let p = 0; p <= ncpus + used.length; p++) {
    events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: 1, tid: p, args: { name: p === ncpus ? 'host' : p > ncpus ? used[p - ncpus - 1] : `cpu ${p}` } });
  }
  // Per track in time order; an end whose begin fell off the ring is dropped, and
  // slices still open at the end are closed at the track's last timestamp.
  for (let p = 0; p <= ncpus + used.length; p++) {
    const mine = raw.filter((e) => e.tid === p); // in recording order (a worker track: per CPU, then by time)
    if (p > ncpus) mine.sort((a, b) => a.ts - b.ts);
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
