/**
 * The host seam in isolation: each host's guest hooks driven on a booted machine on this
 * thread, without a worker running, and the registry's list of hosts and races.
 */
import { describe, expect, it } from 'vitest';
import { H } from '../src/core/hooks.js';
import {
  ACC_ADDRESSING, ACC_DISCARD_FAULT, ACC_OK, ACC_ZERO_FILL, ORC_SET_STABLE, ORC_SET_UNUSED, ST_Sr, ST_Sz, ST_Vz, hwInit,
} from '../src/core/hw.js';
import { CS_STOP, CTL_STATE, CTL_UNFIX, CTL_UNFIX_HI, HS_CHANGE, HS_LOCK, HS_STATE_MASK, PTE_ACCESSED, PTE_DIRTY, PTE_WRITE, pteWordOf, type Views } from '../src/core/layout.js';
import { O, report } from '../src/core/oracles.js';
import { RACES, RACE_BIT, raceUnfixWord, unfixMask, unfixMaskHi } from '../src/core/races.js';
import { ParticipantAbandoned } from '../src/core/sched.js';
import { traceInit } from '../src/core/trace.js';
import { pageAllocInit } from '../src/guest/page_alloc.js';
import { fileTable, pte_alloc, set_pte } from '../src/guest/pgtable.js';
import { HOST_LIST, HOST_NAMES, attachHost, hostByName, hostDaemon, hostRaces, hostWorkerEntries } from '../src/hosts/index.js';
import { MFN_NONE, P2M_PAGED, P2M_RAM_RW, entryType, entryWord, p2mGet } from '../src/hosts/xenpaging/p2m.js';
import { XV } from '../src/hosts/xenpaging/xen_views.js';
import { SC, SCNT } from '../src/hosts/shadow/shadow_views.js';
import { bootMachine } from '../src/machine/boot.js';
import { DEFAULTS, type Host } from '../src/machine/config.js';

/** Boot a small machine on this thread and become its guest CPU 0 (as cpu_worker's attach does). */
function cpu0(host: Host, hinting: 'off' | 'unused' | 'full' = 'unused'): Views {
  const v = bootMachine({ ...DEFAULTS, host, hinting, memBytes: 1 << 20, workload: host === 'shadow' ? 'kscand' : 'alloc-storm' });
  attachHost(v, 0);
  traceInit(null, 0);
  hwInit();
  pageAllocInit();
  return v;
}

const state = (v: Views, pfn: number): number => Atomics.load(v.hs, pfn) & HS_STATE_MASK;

describe('host hooks without workers', () => {
  it('essa: the access path raises a discard fault on Vz; ESSA set_stable makes it Sz, and the next access zero-fills', () => {
    const v = cpu0('essa');
    const pfn = 40;
    Atomics.store(v.hs, pfn, ST_Vz);
    expect(H.accessBegin(pfn, false)).toBe(ACC_DISCARD_FAULT);
    expect(Atomics.load(v.hs, pfn) & HS_LOCK).toBe(0); // a fault holds nothing
    expect(H.essa(pfn, ORC_SET_STABLE)).toBe(ST_Vz);
    expect(state(v, pfn)).toBe(ST_Sz);
    expect(H.accessBegin(pfn, true)).toBe(ACC_ZERO_FILL);
    expect(Atomics.load(v.hs, pfn) & HS_LOCK).not.toBe(0); // held until accessEnd
    H.accessEnd(pfn);
    expect(Atomics.load(v.hs, pfn) & (HS_LOCK | HS_CHANGE | HS_STATE_MASK)).toBe(HS_CHANGE | ST_Sr);
    H.essa(pfn, ORC_SET_UNUSED);
    expect(H.accessBegin(pfn, false)).toBe(ACC_ADDRESSING); // Ur
  });

  it('xenpaging: ESSA is a no-op that reads Sr; a ballooned gfn is an addressing exception; a paged gfn is refused once the run stopped on a violation', () => {
    const v = cpu0('xenpaging', 'off');
    const rw: number[] = [];
    for (let x = v.nframes - 1; x >= 0 && rw.length < 2; x--) if (entryType(p2mGet(x)) === P2M_RAM_RW) rw.push(x); // boot's warm-up paged some out
    const [g, p] = rw;
    expect(H.essa(g, ORC_SET_UNUSED)).toBe(ST_Sr);
    expect(state(v, g)).toBe(ST_Sr);
    expect(H.accessBegin(g, true)).toBe(ACC_OK);
    H.accessEnd(g);
    H.balloonOut(g);
    expect(H.accessBegin(g, false)).toBe(ACC_ADDRESSING);
    expect(H.balloonIn(g)).toBe(true);
    expect(H.accessBegin(g, false)).toBe(ACC_OK);
    H.accessEnd(g);
    // Paged out, and the run is stopping after a violation: the vCPU gives up instead of waiting for the pager.
    XV.x[XV.g.p2m + p] = entryWord(P2M_PAGED, MFN_NONE);
    report(v, O.bug_on, p, 0, 0, 'test: a violation stops the run');
    Atomics.store(v.hdr, CTL_STATE, CS_STOP);
    expect(() => H.accessBegin(p, false)).toThrow(ParticipantAbandoned);
    expect(Atomics.load(v.hs, p) & HS_LOCK).toBe(0);
  });

  it('shadow: a pte store into a write-protected (shadowed) table frame is emulated; before the table is shadowed it is native', () => {
    const v = cpu0('shadow');
    expect(H.wantsTableFrames).toBe(true);
    const table = fileTable(0, 0);
    pte_alloc(table);
    const frame = H.tableFrame(table);
    expect(frame).toBeGreaterThanOrEqual(0);
    const pi0 = pteWordOf(table, 0);
    const pi1 = pteWordOf(table, 1);
    const emulated = SCNT[SC.insn_emulation];
    set_pte(pi0, (100 + 1) | PTE_WRITE);
    expect(SCNT[SC.insn_emulation]).toBe(emulated); // nothing shadows the frame yet: a native store
    expect(H.translate(pi0, false) & ~(PTE_ACCESSED | PTE_DIRTY)).toBe((100 + 1) | PTE_WRITE); // the walk shadows the table (A/D aside)
    set_pte(pi1, 200 + 1);
    expect(SCNT[SC.insn_emulation]).toBe(emulated + 1); // write-protected now: an exit and an emulation
    expect(Atomics.load(v.k, pi1)).not.toBe(0);
  });

  it('the default hooks: no table frames, no balloon interface, the referenced bit cleared natively', () => {
    const v = cpu0('essa');
    expect(H.wantsTableFrames).toBe(false);
    const table = fileTable(0, 1);
    pte_alloc(table);
    expect(H.tableFrame(table)).toBe(-1);
    expect(H.balloonIn(3)).toBe(true);
    const pi = pteWordOf(table, 2);
    set_pte(pi, 5 | PTE_ACCESSED);
    expect(Atomics.load(v.k, pi)).toBe(5 | PTE_ACCESSED);
    expect(H.testClearYoung(table, 2, pi, 2, false, false)).toBe(1);
    expect(Atomics.load(v.k, pi)).toBe(5);
  });
});

describe('host registry', () => {
  it('lists the hosts, each with its code, participants and races, in catalogue order', () => {
    expect(HOST_NAMES).toEqual(['essa', 'xenpaging', 'shadow', 'reporting', 'cmma']);
    HOST_LIST.forEach((h, i) => expect(h.code).toBe(i));
    expect(hostByName('xenpaging').participants.map((p) => p.who)).toEqual(['the pager', 'dom0']);
    expect(hostByName('essa').participants.map((p) => p.entry)).toEqual(['host_worker']);
    expect(hostWorkerEntries()).toEqual({ xen_worker: 'hosts/xenpaging/xen_worker' });
    expect(hostDaemon(hostByName('shadow'))).toBeDefined();
    expect(hostDaemon(hostByName('xenpaging'))).toBeUndefined();
    const byHost = HOST_LIST.map((h) => hostRaces(h));
    for (const rs of byHost) expect(rs.length).toBeGreaterThan(0);
    expect(byHost.flat().map((r) => r.id)).toEqual(RACES.map((r) => r.id)); // blocks in registry order: bits unchanged
    // races 0..31 keep their bits of CTL_UNFIX; 32..63 are bits of the second word, CTL_UNFIX_HI
    RACES.forEach((r, i) => {
      expect(RACE_BIT[r.id]).toBe(1 << (i & 31));
      expect(raceUnfixWord(r.id)).toBe(i < 32 ? CTL_UNFIX : CTL_UNFIX_HI);
    });
    expect(RACES.length).toBeGreaterThan(32);
    expect(unfixMask(['fpr-request-lost', 'discard-get-page'])).toBe(1);
    expect(unfixMaskHi(['fpr-request-lost', 'discard-get-page'])).toBe(1 << (RACES.findIndex((r) => r.id === 'fpr-request-lost') - 32));
    expect(hostRaces(hostByName('reporting')).every((r) => r.id.startsWith('fpr-'))).toBe(true);
    expect(hostRaces(hostByName('cmma')).every((r) => r.id.startsWith('cmma-'))).toBe(true);
    expect(hostRaces(hostByName('xenpaging')).every((r) => r.id.startsWith('xp-'))).toBe(true);
    expect(hostRaces(hostByName('shadow')).every((r) => r.id.startsWith('kv-'))).toBe(true);
  });
});
