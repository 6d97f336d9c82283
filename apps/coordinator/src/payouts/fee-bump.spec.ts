import { bumped, firstFees, gasFeesOf, replacementFees } from './fee-bump';

const GWEI = 10n ** 9n;
const fees = (maxFeePerGas: bigint, maxPriorityFeePerGas: bigint) => ({
  maxFeePerGas,
  maxPriorityFeePerGas,
});

describe('fee bump', () => {
  it('raises by 12.5%, rounded up, and by at least one wei', () => {
    expect(bumped(8n)).toBe(9n);
    expect(bumped(9n)).toBe(11n); // 10.125 rounds up
    expect(bumped(GWEI)).toBe(1_125_000_000n);
    expect(bumped(1n)).toBe(2n);
    expect(bumped(0n)).toBe(1n);
    // always above the 10% a node requires of a replacement
    for (const wei of [1n, 7n, 99n, 12_345n, 3n * GWEI + 1n]) {
      expect(bumped(wei) * 10n).toBeGreaterThanOrEqual(wei * 11n);
    }
  });

  it('reads the fees of an EIP-1559 transaction, a legacy one and fee data', () => {
    expect(gasFeesOf({ maxFeePerGas: 30n, maxPriorityFeePerGas: 2n, gasPrice: 25n })).toEqual(
      fees(30n, 2n),
    );
    expect(gasFeesOf({ maxFeePerGas: null, maxPriorityFeePerGas: null, gasPrice: 25n })).toEqual(
      fees(25n, 25n),
    );
    expect(gasFeesOf({ maxFeePerGas: 30n })).toEqual(fees(30n, 0n));
    expect(() => gasFeesOf({ maxFeePerGas: null, gasPrice: null })).toThrow(/no fee/);
  });

  it('signs first at the chain’s fees, within the cap', () => {
    expect(firstFees(fees(30n, 2n), null)).toEqual(fees(30n, 2n));
    expect(firstFees(fees(30n, 2n), 40n)).toEqual(fees(30n, 2n));
    expect(firstFees(fees(30n, 2n), 20n)).toEqual(fees(20n, 2n));
    expect(firstFees(fees(30n, 25n), 20n)).toEqual(fees(20n, 20n));
  });

  it('takes the previous fees + 12.5% when the chain’s did not rise as much', () => {
    const previous = fees(20n * GWEI, 1n * GWEI);
    expect(replacementFees(previous, fees(18n * GWEI, GWEI), null)).toEqual({
      fees: fees(22_500_000_000n, 1_125_000_000n),
    });
  });

  it('takes the chain’s fees when they rose more, the cap and the tip each on its own', () => {
    const previous = fees(20n * GWEI, 1n * GWEI);
    expect(replacementFees(previous, fees(50n * GWEI, GWEI), null)).toEqual({
      fees: fees(50n * GWEI, 1_125_000_000n),
    });
    expect(replacementFees(previous, fees(21n * GWEI, 3n * GWEI), null)).toEqual({
      fees: fees(22_500_000_000n, 3n * GWEI),
    });
  });

  it('never offers a tip above the fee cap', () => {
    expect(replacementFees(fees(10n, 10n), fees(10n, 40n), null)).toEqual({ fees: fees(40n, 40n) });
  });

  it('clamps to the cap while that still outbids the previous transaction', () => {
    const previous = fees(20n * GWEI, 1n * GWEI);
    expect(replacementFees(previous, fees(50n * GWEI, GWEI), 30n * GWEI)).toEqual({
      fees: fees(30n * GWEI, 1_125_000_000n),
    });
    // exactly the least bump is still allowed
    expect(replacementFees(previous, fees(50n * GWEI, GWEI), 22_500_000_000n)).toEqual({
      fees: fees(22_500_000_000n, 1_125_000_000n),
    });
  });

  it('stops at the cap when even the least bump exceeds it', () => {
    const previous = fees(20n * GWEI, 1n * GWEI);
    expect(replacementFees(previous, fees(50n * GWEI, GWEI), 22_499_999_999n)).toEqual({
      capped: { needed: 22_500_000_000n, cap: 22_499_999_999n },
    });
    // a tip already at the cap cannot be raised either
    expect(replacementFees(fees(20n, 20n), fees(20n, 20n), 22n)).toEqual({
      capped: { needed: 23n, cap: 22n },
    });
  });

  it('replaces a transaction again from its replacement, each time higher', () => {
    let last = fees(10n * GWEI, GWEI);
    const seen: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      const next = replacementFees(last, fees(GWEI, GWEI), null);
      if (!('fees' in next)) throw new Error('capped without a cap');
      expect(next.fees.maxFeePerGas * 10n).toBeGreaterThanOrEqual(last.maxFeePerGas * 11n);
      expect(next.fees.maxPriorityFeePerGas * 10n).toBeGreaterThanOrEqual(
        last.maxPriorityFeePerGas * 11n,
      );
      seen.push(next.fees.maxFeePerGas);
      last = next.fees;
    }
    expect(seen).toEqual([
      11_250_000_000n,
      12_656_250_000n,
      14_238_281_250n,
      16_018_066_407n,
      18_020_324_708n,
    ]);
  });
});
