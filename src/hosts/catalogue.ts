/**
 * The race catalogue's host blocks, in registry order (index.ts HOST_LIST checks it): the
 * guest's and ESSA host's races come first (core/races.ts), then xenpaging's, then the shadow
 * MMU's, so race bit indices (CTL_UNFIX, replay files) stay put. Imported before any host
 * module that reads a race bit at load (the registry's first import; xen_worker's).
 */
import { setHostRaces } from '../core/races.js';
import { XEN_RACES } from './xenpaging/races.js';
import { SHADOW_RACES } from './shadow/races.js';

export const HOST_RACE_BLOCKS = [XEN_RACES, SHADOW_RACES] as const;
setHostRaces(HOST_RACE_BLOCKS);
