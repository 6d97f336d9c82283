import { Batcher } from './batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  it('sends items added close together in one call, in order, and resolves each add', async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number>(
      async (items) => {
        sent.push(items);
      },
      { maxWaitMs: 20, maxItems: 100 },
    );
    const adds = [1, 2, 3].map((n) => batcher.add(n));
    expect(sent).toEqual([]); // waits for company
    await Promise.all(adds);
    expect(sent).toEqual([[1, 2, 3]]);
    await batcher.add(4);
    expect(sent).toEqual([[1, 2, 3], [4]]);
  });

  it('sends a full batch at once without waiting', async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number>(
      async (items) => {
        sent.push(items);
      },
      { maxWaitMs: 60_000, maxItems: 2 },
    );
    await Promise.all([batcher.add(1), batcher.add(2)]);
    expect(sent).toEqual([[1, 2]]);
  });

  it('rejects every add of a batch whose send failed, and keeps going with the next', async () => {
    let fail = true;
    const sent: string[][] = [];
    const batcher = new Batcher<string>(
      async (items) => {
        if (fail) throw new Error('redis down');
        sent.push(items);
      },
      { maxWaitMs: 5, maxItems: 10 },
    );
    const results = await Promise.allSettled([batcher.add('a'), batcher.add('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toEqual(new Error('redis down'));
    fail = false;
    await batcher.add('c');
    expect(sent).toEqual([['c']]);
  });

  it('flush() sends what waits without the timer, and nothing when empty', async () => {
    const send = jest.fn(async () => undefined);
    const batcher = new Batcher<number>(send, { maxWaitMs: 60_000, maxItems: 10 });
    batcher.flush();
    expect(send).not.toHaveBeenCalled();
    const added = batcher.add(7);
    batcher.flush();
    await added;
    expect(send).toHaveBeenCalledWith([7]);
    await sleep(5);
    expect(send).toHaveBeenCalledTimes(1);
  });
});
