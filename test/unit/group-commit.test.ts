// The API's group commit (batched mode) and the id rules of batched transfers: pure logic, no services.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runsOfFlow } from '../../src/workflows';
import { batchedTransferId, batchOfTransfer, transferRunWorkflowId } from '../../src/workflows/transfer/contract';
import { GroupCommit } from '../../src/platform/http/group-commit';

/** A group commit whose start takes `startMs` and records every group it started. */
function recorder(options: { maxSize?: number; lingerMs?: number; maxInFlight?: number; startMs?: number } = {}) {
  const groups: Array<{ id: string; items: number[] }> = [];
  const gc = new GroupCommit<number, string>(
    async (id, items) => {
      groups.push({ id, items });
      await sleep(options.startMs ?? 20);
      return `started ${id}`;
    },
    { maxSize: options.maxSize ?? 64, lingerMs: options.lingerMs ?? 0, maxInFlight: options.maxInFlight ?? 1 },
  );
  return { gc, groups };
}

describe('GroupCommit', () => {
  it('when one request comes alone, then its group starts at once with it', async () => {
    const { gc, groups } = recorder();
    const t0 = Date.now();
    const place = gc.reserve();
    expect(await place.submit(1)).toBe(`started ${place.groupId}`);
    expect(groups).toEqual([{ id: place.groupId, items: [1] }]);
    expect(Date.now() - t0).toBeLessThan(1_000); // no linger: it waited only for its own start
  });

  it('when requests arrive while a group is starting, then they gather in the next group', async () => {
    const { gc, groups } = recorder({ startMs: 50 });
    const first = gc.reserve();
    const firstDone = first.submit(0);
    await sleep(5); // the first group is starting now
    const rest = Array.from({ length: 10 }, () => gc.reserve());
    const results = await Promise.all([firstDone, ...rest.map((p, i) => p.submit(i + 1))]);
    expect(groups.map((g) => g.items)).toEqual([[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
    expect(new Set(rest.map((p) => p.groupId)).size).toBe(1);
    expect(rest.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.slice(1)).toEqual(rest.map((p) => `started ${p.groupId}`));
  });

  it('when a group is full, then the next request opens another', async () => {
    const { gc, groups } = recorder({ maxSize: 3, maxInFlight: 4 });
    const places = Array.from({ length: 7 }, () => gc.reserve());
    await Promise.all(places.map((p, i) => p.submit(i)));
    expect(groups.map((g) => g.items.length).sort()).toEqual([1, 3, 3]);
  });

  it('when a place is abandoned, then its group starts without it, and a group of abandoned places never starts', async () => {
    const { gc, groups } = recorder({ startMs: 30 });
    const busy = gc.reserve();
    const busyDone = busy.submit(0);
    await sleep(5);
    const kept = gc.reserve();
    const dropped = gc.reserve();
    const keptDone = kept.submit(1);
    dropped.abandon();
    await Promise.all([busyDone, keptDone]);
    const lonely = gc.reserve();
    lonely.abandon();
    await sleep(50);
    expect(groups.map((g) => g.items)).toEqual([[0], [1]]);
  });

  it('when a start fails, then every member of that group gets the error and later groups still start', async () => {
    let fail = true;
    const gc = new GroupCommit<number, string>(
      async () => {
        if (fail) throw new Error('Temporal unavailable');
        return 'ok';
      },
      { maxSize: 8, lingerMs: 0, maxInFlight: 1 },
    );
    await expect(gc.reserve().submit(1)).rejects.toThrow('Temporal unavailable');
    fail = false;
    await expect(gc.reserve().submit(2)).resolves.toBe('ok');
  });

  it('when a linger is set but the system is not busy, then a lone request starts at once', async () => {
    const groups: number[][] = [];
    const gc = new GroupCommit<number, string>(
      async (_id, items) => {
        groups.push(items);
        return 'ok';
      },
      { maxSize: 8, lingerMs: 5_000, maxInFlight: 1, busy: () => false },
    );
    const t0 = Date.now();
    await gc.reserve().submit(1);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(groups).toEqual([[1]]);
  });

  it('when a linger is set, then a lone request waits for it and company arriving meanwhile joins', async () => {
    const { gc, groups } = recorder({ lingerMs: 40, startMs: 1 });
    const a = gc.reserve();
    const aDone = a.submit(1);
    await sleep(10);
    const b = gc.reserve();
    await Promise.all([aDone, b.submit(2)]);
    expect(groups.map((g) => g.items)).toEqual([[1, 2]]);
  });
});

describe('batched transfer ids', () => {
  const batch = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('when an id is drawn in a batch, then the batch and its run are found from the id alone', () => {
    const id = batchedTransferId(batch, 2001);
    expect(batchOfTransfer(id)).toBe(batch);
    expect(transferRunWorkflowId(id)).toBe(`transfers-${batch}`);
    // A batched transfer whose batch closed without it runs as its own workflow: retention asks both.
    expect(runsOfFlow(`transfer-${id}`)).toEqual([`transfers-${batch}`, `transfer-${id}`]);
  });

  it('when an id is a single transfer\'s, then it runs as its own workflow', () => {
    expect(batchOfTransfer(batch)).toBeUndefined();
    expect(transferRunWorkflowId(batch)).toBe(`transfer-${batch}`);
    expect(runsOfFlow(`transfer-${batch}`)).toEqual([`transfer-${batch}`]);
    expect(runsOfFlow('order-o-1')).toEqual(['order-o-1']);
  });
});
