/**
 * The host registry: every host model the machine can run, and the one place generic code
 * (src/machine, src/explore, src/bench, src/report) learns about hosts. A host lives in its
 * folder (src/hosts/<name>/, with a host.ts describing it); adding one is a folder and a
 * line in HOST_LIST below (and its race block in catalogue.ts, when it has races).
 */
import { HOST_RACE_BLOCKS } from './catalogue.js'; // first: host modules read race bits at load
import { ctxInit } from '../core/ctx.js';
import { DEFAULT_HOOKS, installHooks, type GuestHooks } from '../core/hooks.js';
import { CTL_HOST, type Views } from '../core/layout.js';
import { RACES, type RaceEntry } from '../core/races.js';
import type { Host, HostDaemon, HostName } from './host.js';
import { ESSA_HOST } from './essa/host.js';
import { XEN_HOST } from './xenpaging/host.js';
import { SHADOW_HOST } from './shadow/host.js';
import { REPORTING_HOST } from './reporting/host.js';
import { CMMA_HOST } from './cmma/host.js';

export type { Host, HostAllFigures, HostBootOptions, HostDaemon, HostName, HostOption, HostParticipant, HostTextRun, HostCompareFigures } from './host.js';
// What generic code reads of the ESSA host's state machine (coverage universe, the states table and its graph).
export { essaNext } from './essa/essa.js';
export { hostReclaimNext } from './essa/host_states.js';
export { computeStates, statesDot, type StatesTable } from './essa/states.js';
export type { XenSummary } from './xenpaging/xen_machine.js';
export type { ShadowSummary } from './shadow/shadow_mmu.js';

/** Every host, by CTL_HOST code (its index here); the races catalogue follows this order. */
export const HOST_LIST: readonly Host[] = [ESSA_HOST, XEN_HOST, SHADOW_HOST, REPORTING_HOST, CMMA_HOST];

HOST_LIST.forEach((h, i) => { if (h.code !== i) throw new Error(`hosts: ${h.name} has code ${h.code} at index ${i}`); });
{
  const blocks = HOST_LIST.filter((h) => h.races.length > 0).map((h) => h.races);
  if (blocks.length !== HOST_RACE_BLOCKS.length || blocks.some((b, i) => b !== HOST_RACE_BLOCKS[i])) {
    throw new Error('hosts: catalogue.ts lists the host race blocks out of registry order');
  }
}

export const HOST_NAMES: readonly HostName[] = HOST_LIST.map((h) => h.name);

export function hostByName(name: string): Host {
  const h = HOST_LIST.find((x) => x.name === name);
  if (!h) throw new Error(`unknown host '${name}'; accepted: ${HOST_NAMES.join(', ')}`);
  return h;
}

/** The host running the machine of `v` (CTL_HOST). */
export function hostOf(v: Views): Host {
  return HOST_LIST[v.hdr[CTL_HOST]];
}

/** A host's races (the ESSA host's are the guest's block of core/races.ts), in catalogue order. */
export function hostRaces(h: Host): readonly RaceEntry[] {
  return RACES.filter((r) => r.host === h.name);
}

const hooksCache = new Map<Host, GuestHooks>();
/** A host's guest hooks, built once on its base's (or the plain machine's). */
export function hostHooks(h: Host): GuestHooks {
  let x = hooksCache.get(h);
  if (!x) {
    x = h.hooks(h.base ? hostHooks(hostByName(h.base)) : DEFAULT_HOOKS);
    hooksCache.set(h, x);
  }
  return x;
}

/** A host's daemon (host_worker), built on its base's; undefined when its host slot runs its own worker. */
export function hostDaemon(h: Host): HostDaemon | undefined {
  const base = h.base ? hostDaemon(hostByName(h.base)) : undefined;
  return h.daemon ? h.daemon(base) : base;
}

/** Every worker entry of every host and of the machine, as paths under src/ without extension. */
export function hostWorkerEntries(): Record<string, string> {
  return Object.assign({}, ...HOST_LIST.map((h) => h.workerEntries)) as Record<string, string>;
}

/**
 * Bind this thread to a machine as participant `me`: the core context (ctxInit), the running
 * host's per-participant views of its area, and the running host's guest hooks (as Linux installs
 * pv_mmu_ops at boot).
 */
export function attachHost(views: Views, me: number): void {
  ctxInit(views, me);
  const h = hostOf(views);
  h.viewsInit?.(views, me); // only the running host has an area in this machine's buffer
  installHooks(hostHooks(h));
}
