/**
 * The host registry: every host model the machine can run, and the one place generic code
 * (src/machine, src/explore, src/bench, src/report) learns about hosts. A host lives in its
 * folder (src/hosts/<name>/); adding one is a folder and a line in HOST_LIST below.
 */
import { ctxInit } from '../core/ctx.js';
import { installHooks, type GuestHooks } from '../core/hooks.js';
import { CTL_HOST, type Views } from '../core/layout.js';
import { ESSA_HOOKS } from './essa/hooks.js';
import { XEN_HOOKS } from './xenpaging/hooks.js';
import { xenViewsInit } from './xenpaging/xen_views.js';
import { shadowHooks } from './shadow/hooks.js';
import { shadowViewsInit } from './shadow/shadow_views.js';

export { essaNext } from './essa/essa.js';

interface HostEntry {
  /** Guest hooks, installed for every participant of a machine this host runs. */
  hooks: GuestHooks;
  /** Per-participant views of the host's shared-memory area (set for every host at attach). */
  viewsInit?(v: Views, me: number): void;
}

/** Indexed by the CTL_HOST code (HOST_ESSA, HOST_XENPAGING, HOST_SHADOW). */
const BY_CODE: HostEntry[] = [
  { hooks: ESSA_HOOKS },
  { hooks: XEN_HOOKS, viewsInit: xenViewsInit },
  { hooks: shadowHooks(ESSA_HOOKS), viewsInit: shadowViewsInit },
];

/**
 * Bind this thread to a machine as participant `me`: the core context (ctxInit), every
 * host's per-participant views, and the running host's guest hooks (as Linux installs
 * pv_mmu_ops at boot).
 */
export function attachHost(views: Views, me: number): void {
  ctxInit(views, me);
  for (const h of BY_CODE) h.viewsInit?.(views, me);
  installHooks(BY_CODE[views.hdr[CTL_HOST]].hooks);
}
