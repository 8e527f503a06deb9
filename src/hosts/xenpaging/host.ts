/** The xenpaging host in the registry: p2m hooks, the pager and dom0 participants, its boot, audit and summary. */
import { ST_Sr } from '../../core/hw.js';
import { HOST_XENPAGING, xenGeometry } from '../../core/layout.js';
import type { Host } from '../host.js';
import { XEN_HOOKS } from './hooks.js';
import { type XenSummary, xenBoot, xenEndOfRunChecks, xenIoFrames, xenSummary, xenWarmUp } from './xen_machine.js';
import { xenViewsInit } from './xen_views.js';
import { XEN_STORY_WORD } from './p2m.js';
import { XEN_RACES } from './races.js';
import { xenHostLines } from './text.js';

export const XEN_HOST: Host = {
  name: 'xenpaging',
  code: HOST_XENPAGING,
  description: 'Xen paging: a p2m, the dom0 pager evicting guest frames, foreign mappers; ESSA ignored',
  hooks: (base) => ({ ...base, ...XEN_HOOKS }),
  areaBytes: (n) => xenGeometry(n).words * 4,
  viewsInit: xenViewsInit,
  participants: [
    { entry: 'xen_worker', who: 'the pager', step: 'page' },
    { entry: 'xen_worker', who: 'dom0', step: 'map' },
  ],
  workerEntries: { xen_worker: 'hosts/xenpaging/xen_worker' },
  bootState: ST_Sr, // the storage key only (ESSA states unused)
  guestFrames: (n) => [xenIoFrames(n), n], // the first gfns are granted to dom0's backends, not the allocator
  boot(v, o): boolean { // after the boot-time ESSAs (no-ops here): counters start at zero
    xenBoot(v, o.hostBudgetFrames, o.ringSlots);
    xenWarmUp(v);
    return false;
  },
  readsHints: false,
  ringSlots: true,
  auditsHostStates: false,
  ownedFrames: (v) => Array.from({ length: xenIoFrames(v.nframes) }, (_, i) => i), // dom0's I/O gfns
  endOfRunChecks: xenEndOfRunChecks,
  summary: (v, nparts) => ['xen', xenSummary(v, nparts)],
  summaryKey: 'xen',
  hostLines: xenHostLines,
  compareRow: { // the guest issues no hints: they would be ignored
    hinting: 'off',
    figures: (s) => {
      const k = (s as XenSummary).counters;
      return { wasted_writes_failed_evict: k.wasted_writes_failed_evict, vcpu_pauses: k.vcpu_pauses, vcpu_stall: k.vcpu_stall };
    },
  },
  races: XEN_RACES,
  allFigures: (s) => ({ host_calls: (s as XenSummary).counters.ring_requests, freed_no_io: 0, latency_steps: null }), // the pager writes every page it takes
  storyWord: XEN_STORY_WORD,
};
