import { estimateRemainingMs } from './job-eta';

describe('estimateRemainingMs', () => {
  const planned = new Date('2026-01-01T00:00:00Z');
  const now = new Date('2026-01-01T00:01:00Z');

  it('extrapolates the pace since planning', () => {
    expect(estimateRemainingMs({ total: 40, done: 10 }, planned, now)).toBe(180_000);
  });

  it('has no estimate before the first tile or after the last', () => {
    expect(estimateRemainingMs({ total: 40, done: 0 }, planned, now)).toBeNull();
    expect(estimateRemainingMs({ total: 40, done: 40 }, planned, now)).toBeNull();
    expect(estimateRemainingMs({ total: 40, done: 5 }, null, now)).toBeNull();
  });
});
