/** The shadow MMU host in the registry: on the ESSA host's hooks and daemon, the MMU's hooks, boot, audit and summary. */
import { HOST_SHADOW, shadowGeometry } from '../../core/layout.js';
import { ST_Sz } from '../../core/hw.js';
import type { Host } from '../host.js';
import { shadowHooks } from './hooks.js';
import { SHADOW_RESERVED_FRAMES, shadowAudit, shadowBoot, shadowKernelFrames, shadowShrinkTick, shadowSummary } from './shadow_mmu.js';
import { shadowViewsInit } from './shadow_views.js';
import { SHADOW_RACES } from './races.js';
import { shadowExtraLines } from './text.js';

export const SHADOW_HOST: Host = {
  name: 'shadow',
  code: HOST_SHADOW,
  base: 'essa',
  description: 'KVM\'s shadow MMU of 2.6.2x on the ESSA host: write-protected guest page tables, emulated pte writes',
  hooks: shadowHooks,
  areaBytes: (n) => shadowGeometry(n).words * 4,
  viewsInit: shadowViewsInit,
  daemon: (base) => ({ ...base!, afterPass(): void { shadowShrinkTick(); } }), // a reclaim pass also runs KVM's mmu shrinker
  participants: [{ entry: 'host_worker', who: 'the host', step: 'reclaim' }],
  workerEntries: {},
  bootState: ST_Sz,
  guestFrames: (n) => [0, n - SHADOW_RESERVED_FRAMES], // the kernel's page table K and the kernel data it maps sit at the top
  boot(v, o): boolean {
    const w = o.workloadOptions;
    shadowBoot(v, { pool: w.shadow_pool ?? 0, aClearUnshadow: (w.a_clear ?? 0) !== 0, emulateMore: (w.emulate_more ?? 0) !== 0 });
    return true; // again: the shadow views read the words just written
  },
  readsHints: true,
  ringSlots: false,
  auditsHostStates: false,
  ownedFrames: shadowKernelFrames, // the kernel's page table and its data, outside the allocator
  endOfRunChecks: (v, who): void => { shadowAudit(v, who); },
  summary: (v, nparts, ops) => ['shadow', shadowSummary(v, nparts, ops)],
  summaryKey: 'shadow',
  extraLines: shadowExtraLines,
  races: SHADOW_RACES,
};
