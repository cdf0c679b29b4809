// eachItem, the body of a coalesced activity call (pure logic, no server): one item's infrastructure failure is
// retried for that item alone, and never decides the other items' fate.
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { eachItem } from '../../src/platform/activity';

const lockTimeout = () => Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT' });

describe('eachItem', () => {
  it('when one item meets a lock wait timeout once, then it is retried alone and every item comes back applied', async () => {
    const applied: number[] = [];
    let failed = false;
    const results = await eachItem([1, 2, 3], async (n) => {
      if (n === 2 && !failed) {
        failed = true;
        throw lockTimeout();
      }
      applied.push(n);
      return n * 10;
    });
    expect(results).toEqual([{ ok: 10 }, { ok: 20 }, { ok: 30 }]);
    expect(applied.sort()).toEqual([1, 2, 3]);
  });

  it('when one item keeps failing, then the call fails only after every other item has finished', async () => {
    const applied: number[] = [];
    const call = eachItem([1, 2, 3, 4], async (n) => {
      if (n === 1) throw lockTimeout();
      await new Promise((r) => setTimeout(r, 30));
      applied.push(n);
      return n;
    }, 2);
    await expect(call).rejects.toThrow('Lock wait timeout');
    expect(applied.sort()).toEqual([2, 3, 4]);
  });

  it('when one item is rejected by a business rule, then only it carries the rejection and it is not retried', async () => {
    let tries = 0;
    const results = await eachItem([1, 2], async (n) => {
      if (n === 1) {
        tries++;
        throw ApplicationFailure.create({ type: 'InsufficientFunds', message: 'no', nonRetryable: true });
      }
      return n;
    });
    expect(results).toEqual([{ rejected: { type: 'InsufficientFunds', message: 'no' } }, { ok: 2 }]);
    expect(tries).toBe(1);
  });
});
