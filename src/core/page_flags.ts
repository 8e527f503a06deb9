/**
 * struct page flag bits (word PG_FLAGS of each mem_map entry). Bits that more than one
 * CPU may change are only changed with Atomics.or / Atomics.and / CAS (test-and-set).
 */
export const PG_locked = 1 << 0;
export const PG_error = 1 << 1;
export const PG_referenced = 1 << 2;
export const PG_uptodate = 1 << 3;
export const PG_dirty = 1 << 4;
export const PG_lru = 1 << 5;
export const PG_active = 1 << 6;
export const PG_slab = 1 << 7;
export const PG_reserved = 1 << 8;
export const PG_private = 1 << 9;
export const PG_writeback = 1 << 10;
export const PG_buddy = 1 << 11;
export const PG_discarded = 1 << 12;
export const PG_state_change = 1 << 13;
export const PG_writable = 1 << 14;
export const PG_anon = 1 << 15;
export const PG_swapcache = 1 << 16;
export const PG_mlocked = 1 << 17;
export const PG_pcp = 1 << 18;       // debug: on a per-CPU list (owner CPU sets/clears)
export const PG_isolated = 1 << 19;  // isolated from the LRU by vmscan
export const PG_discard_list = 1 << 20; // parked on the discard list
export const PG_lazy = 1 << 21;     // queued for a deferred make_volatile (the pending set the free path consults)
export const PG_lazy_commit = 1 << 22; // a lazy commit owns the page: the free path waits for it
export const PG_reported = 1 << 23;  // free page reporting: the host has discarded this free buddy block (zone lock; head page only)

export const FLAG_NAMES: ReadonlyArray<[number, string]> = [
  [PG_locked, 'locked'], [PG_error, 'error'], [PG_referenced, 'referenced'], [PG_uptodate, 'uptodate'],
  [PG_dirty, 'dirty'], [PG_lru, 'lru'], [PG_active, 'active'], [PG_slab, 'slab'], [PG_reserved, 'reserved'],
  [PG_private, 'private'], [PG_writeback, 'writeback'], [PG_buddy, 'buddy'], [PG_discarded, 'discarded'],
  [PG_state_change, 'state_change'], [PG_writable, 'writable'], [PG_anon, 'anon'], [PG_swapcache, 'swapcache'],
  [PG_mlocked, 'mlocked'], [PG_pcp, 'pcp'], [PG_isolated, 'isolated'], [PG_discard_list, 'discard_list'],
  [PG_lazy, 'lazy'], [PG_lazy_commit, 'lazy_commit'], [PG_reported, 'reported'],
];

/** Flags a page must not carry when it is allocated (prep_new_page) or freed (free_pages_check). */
export const PAGE_FLAGS_CHECK_AT_PREP = PG_locked | PG_lru | PG_active | PG_slab | PG_reserved | PG_private |
  PG_writeback | PG_buddy | PG_discarded | PG_state_change | PG_dirty | PG_pcp | PG_discard_list | PG_isolated |
  PG_swapcache;
export const PAGE_FLAGS_CHECK_AT_FREE = PG_locked | PG_lru | PG_active | PG_slab | PG_reserved | PG_private |
  PG_writeback | PG_buddy | PG_state_change | PG_pcp | PG_discard_list | PG_isolated | PG_swapcache;

export function flagString(f: number): string {
  const parts: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (f & bit) parts.push(name);
  return parts.length ? parts.join('|') : '0';
}
