/**
 * The race catalogue's host blocks, in registry order (index.ts HOST_LIST checks it): the
 * guest's and ESSA host's races come first (core/races.ts), then xenpaging's, then the shadow
 * MMU's, then free page reporting's and CMMA's, so race bit indices (CTL_UNFIX, replay files) stay put; the order is also written
 * down, ids only, in core/races.ts HOST_RACE_IDS (bits are known without this file), and
 * setHostRaces checks that the two agree.
 */
import { setHostRaces } from '../core/races.js';
import { XEN_RACES } from './xenpaging/races.js';
import { SHADOW_RACES } from './shadow/races.js';
import { REPORTING_RACES } from './reporting/races.js';
import { CMMA_RACES } from './cmma/races.js';

export const HOST_RACE_BLOCKS = [XEN_RACES, SHADOW_RACES, REPORTING_RACES, CMMA_RACES] as const;
setHostRaces(HOST_RACE_BLOCKS);
