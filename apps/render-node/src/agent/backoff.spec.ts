import { Backoff, backoffDelay } from './backoff';

const policy = { baseMs: 100, capMs: 2_000 };

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const top = () => 1;
    expect([0, 1, 2, 3, 4, 5, 10, 100].map((a) => backoffDelay(a, policy, top))).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000, 2000,
    ]);
  });

  it('spreads nodes over the whole step (full jitter) but never waits less than half the base', () => {
    expect(backoffDelay(4, policy, () => 0.5)).toBe(800);
    expect(backoffDelay(4, policy, () => 0)).toBe(50);
  });
});

describe('Backoff', () => {
  it('starts over after a success', () => {
    const b = new Backoff(policy, () => 1);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    expect(b.failures).toBe(3);
    b.reset();
    expect(b.next()).toBe(100);
  });
});
