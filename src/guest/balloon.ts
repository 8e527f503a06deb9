/**
 * A balloon driver: it takes free pages from the guest's allocator and gives their
 * frames back to the hypervisor (decrease_reservation, Xen's guest_remove_page), and
 * later asks for frames again (populate_physmap) and frees the pages to the allocator.
 * The pages it holds are never touched by the guest.
 *
 * The host's balloonOut/balloonIn hooks (core/hooks.ts) give and take the frames; a host
 * without a balloon interface (the default hooks) lets the driver just hold the pages.
 */
import { H } from '../core/hooks.js';
import { NIL } from '../core/layout.js';
import { __free_pages, alloc_pages } from './page_alloc.js';

export class Balloon {
  private readonly pages: Int32Array;
  private n = 0;
  private target = 0;

  constructor(private readonly max: number) {
    this.pages = new Int32Array(Math.max(1, max));
  }

  /** Take one page from the allocator and give its frame back. */
  inflate(): boolean {
    if (this.n >= this.max) return false;
    const pfn = alloc_pages(0, false);
    if (pfn === NIL) return false;
    H.balloonOut(pfn);
    this.pages[this.n++] = pfn;
    return true;
  }

  /** Ask for a frame for the newest ballooned page and free the page. False if none (ENOMEM) or empty. */
  deflate(): boolean {
    if (this.n === 0) return false;
    const pfn = this.pages[this.n - 1];
    if (!H.balloonIn(pfn)) return false;
    this.n--;
    __free_pages(pfn, 0);
    return true;
  }

  /**
   * One step of the driver towards its target, which swings between empty and `max` (the
   * toolstack moving memory/target up and down): inflating digs into cold free memory.
   */
  step(): void {
    if (this.n >= this.max) this.target = 0;
    else if (this.n === 0) this.target = this.max;
    if (this.n < this.target) this.inflate(); else this.deflate();
  }

  /** Give everything back to the guest (end of run); stops early if the hypervisor has no frame. */
  finish(): void {
    while (this.n > 0 && this.deflate()) { /* one page per call */ }
  }

  owned(): number[] {
    return Array.from(this.pages.subarray(0, this.n));
  }
}
