/** The ESSA host (s390 CMMA) in the registry: guest hooks, the reclaim daemon, boot in Sz. */
import { ST_Sz } from '../../core/hw.js';
import { HOST_ESSA } from '../../core/layout.js';
import type { Host } from '../host.js';
import { ESSA_HOOKS } from './hooks.js';
import { reclaimFrame, reclaimPass } from './reclaim.js';

export const ESSA_HOST: Host = {
  name: 'essa',
  code: HOST_ESSA,
  description: 'the s390 ESSA host: guest page states, a clock reclaim daemon honouring them',
  hooks: (base) => ({ ...base, ...ESSA_HOOKS }),
  areaBytes: () => 0, // the host state words are shared (core/layout.ts)
  daemon: () => ({ pass: reclaimPass, frame: reclaimFrame, afterPass(): void { /* nothing after a pass */ } }),
  participants: [{ entry: 'host_worker', who: 'the host', step: 'reclaim' }],
  workerEntries: {},
  bootState: ST_Sz, // nothing resident yet, content zero
  guestFrames: (n) => [0, n],
  readsHints: true,
  ringSlots: false,
  auditsHostStates: true,
  races: [],
};
