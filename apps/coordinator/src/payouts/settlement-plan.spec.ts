import { getAddress } from 'ethers';
import { PIXEL_SAMPLES_PER_UNIT } from '../pricing/pricing';
import { planSettlement, slashIdOf } from './settlement-plan';

const JOB = '0x' + '0'.repeat(32) + '1'.repeat(32);
const A = getAddress('0x00000000000000000000000000000000000000aa');
const B = getAddress('0x00000000000000000000000000000000000000bb');
const C = getAddress('0x00000000000000000000000000000000000000cc');
// one render of exactly one work unit
const unit = (payee: string) => ({ payee, width: 1000, height: 1000, samples: 100 });

describe('planSettlement', () => {
  const base = {
    jobKey: JOB,
    priceWei: 1000n,
    fundedWei: 10n ** 18n,
    convicted: [],
    slashWei: 500n,
    batchSize: 2,
  };

  it('batches payees, then closes the job', () => {
    const plan = planSettlement({
      ...base,
      renders: [unit(A), unit(A), unit(B), unit(C)],
    });
    expect(PIXEL_SAMPLES_PER_UNIT).toBe(10n ** 8n);
    expect(plan.txs).toEqual([
      { seq: 1, kind: 'SETTLE', args: { batchId: '1', payees: [A, B], amounts: ['2000', '1000'] } },
      { seq: 2, kind: 'SETTLE', args: { batchId: '2', payees: [C], amounts: ['1000'] } },
      { seq: 3, kind: 'CLOSE', args: {} },
    ]);
    expect([...plan.accrued]).toEqual([
      [A, 2000n],
      [B, 1000n],
      [C, 1000n],
    ]);
  });

  it('pays a convicted operator nothing and slashes it once', () => {
    const plan = planSettlement({
      ...base,
      renders: [unit(A), unit(C)],
      convicted: [C, C],
    });
    expect(plan.accrued.has(C)).toBe(false);
    expect(plan.txs.map((t) => t.kind)).toEqual(['SETTLE', 'SLASH', 'CLOSE']);
    expect(plan.txs[1].args).toEqual({ operator: C, amount: '500', slashId: slashIdOf(JOB, C) });
  });

  it('matches convicted operators whatever the address case', () => {
    const plan = planSettlement({ ...base, renders: [unit(C)], convicted: [C.toLowerCase()] });
    expect(plan.accrued.size).toBe(0);
  });

  it('only closes a job without accepted work', () => {
    const plan = planSettlement({ ...base, renders: [] });
    expect(plan.txs).toEqual([{ seq: 1, kind: 'CLOSE', args: {} }]);
  });

  it('is the same plan every time (ids derive from the job)', () => {
    const input = { ...base, renders: [unit(A), unit(B)], convicted: [C] };
    expect(planSettlement(input)).toEqual(planSettlement(input));
    expect(slashIdOf(JOB, C)).not.toBe(slashIdOf(JOB, A));
  });

  it('scales the work down to the deposit', () => {
    const plan = planSettlement({ ...base, fundedWei: 1500n, renders: [unit(A), unit(B)] });
    expect(plan.scaled).toBe(true);
    expect([...plan.accrued.values()].reduce((a, b) => a + b)).toBeLessThanOrEqual(1500n);
  });
});
