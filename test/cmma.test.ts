/**
 * The CMMA host's ESSA as kvm-unit-tests s390x/cmm.c checks it (reporting_cmma.md B.8), on a
 * booted machine driven from the main thread: an operation code above the last valid one
 * raises a specification exception (7 is valid only with facility 147), set-stable-no-dat
 * shows in GET_STATE's 0x20 bit, and the usage bits follow set-unused / set-stable.
 */
import { describe, expect, it } from 'vitest';
import { bootMachine } from '../src/machine/boot.js';
import { DEFAULTS, parseSize, type RunOptions } from '../src/machine/config.js';
import { attachHost } from '../src/hosts/index.js';
import { hwInit } from '../src/core/hw.js';
import { ESSA_NODAT_BIT, ESSA_SPECIFICATION_EXCEPTION, ORC_SET_STABLE_NODAT, cmmaEssa } from '../src/hosts/cmma/cmma.js';

function machine(nodat: number): void {
  const o: RunOptions = { ...DEFAULTS, host: 'cmma', hinting: 'off', memBytes: parseSize('mem', '256K'), workloadOptions: { nodat } };
  const v = bootMachine(o);
  attachHost(v, 0); // guest CPU 0, on this thread
  hwInit();
}

describe('cmma ESSA (kvm-unit-tests s390x/cmm.c)', () => {
  it('an operation code above 6 is a specification exception without facility 147', () => {
    machine(0);
    expect(cmmaEssa(3, 8)).toBe(ESSA_SPECIFICATION_EXCEPTION);
    expect(cmmaEssa(3, ORC_SET_STABLE_NODAT)).toBe(ESSA_SPECIFICATION_EXCEPTION);
    expect(cmmaEssa(3, 1)).not.toBe(ESSA_SPECIFICATION_EXCEPTION); // set stable
    expect(cmmaEssa(3, 0) & 0x0c).toBe(0x00);                      // get state: stable
    cmmaEssa(3, 2);                                                  // set unused
    expect(cmmaEssa(3, 0) & 0x0c).toBe(0x04);
  });

  it('with facility 147, set-stable-no-dat is valid and shows in GET_STATE; 8 is still an exception', () => {
    machine(1);
    expect(cmmaEssa(5, 8)).toBe(ESSA_SPECIFICATION_EXCEPTION);
    expect(cmmaEssa(5, ORC_SET_STABLE_NODAT)).not.toBe(ESSA_SPECIFICATION_EXCEPTION);
    expect(cmmaEssa(5, 0) & ESSA_NODAT_BIT).toBe(ESSA_NODAT_BIT);
    cmmaEssa(5, 1); // set stable (DAT): no-dat cleared
    expect(cmmaEssa(5, 0) & ESSA_NODAT_BIT).toBe(0);
  });
});
