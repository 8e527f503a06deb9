/**
 * Host reclaim of one frame (hinting.md 1.5): what the hypervisor does to a resident frame
 * it picks as a victim, by usage state and change bit.
 *   Sr -> Sp page-out      Ur -> Uz free (no I/O)      Vr -> Vz discard (no I/O)
 *   Pr, change clear -> Vz discard   Pr, change set -> Sp page-out (usage forced to S)
 * Non-resident frames are left alone.
 */
import { ST_Pr, ST_Sp, ST_Sr, ST_Ur, ST_Uz, ST_Vr, ST_Vz } from '../../core/hw.js';

export const HX_NONE = 0;      // not resident: nothing to do
export const HX_PAGE_OUT = 1;  // write the frame to host swap, frame freed
export const HX_FREE = 2;      // unused: dropped without I/O
export const HX_DISCARD = 3;   // volatile: dropped without I/O
export const HX_NAMES = ['none', 'page_out', 'free', 'discard'];

/** Returns next state | (action << 8). */
export function hostReclaimNext(state: number, change: boolean): number {
  switch (state) {
    case ST_Sr: return ST_Sp | (HX_PAGE_OUT << 8);
    case ST_Ur: return ST_Uz | (HX_FREE << 8);
    case ST_Vr: return ST_Vz | (HX_DISCARD << 8);
    case ST_Pr: return change ? ST_Sp | (HX_PAGE_OUT << 8) : ST_Vz | (HX_DISCARD << 8);
  }
  return state | (HX_NONE << 8);
}
