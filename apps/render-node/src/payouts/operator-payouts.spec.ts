import { parseAmount } from './operator-payouts';

describe('parseAmount', () => {
  it('reads ETH with up to 18 decimals, and wei', () => {
    expect(parseAmount('1')).toBe(10n ** 18n);
    expect(parseAmount('0.25')).toBe(25n * 10n ** 16n);
    expect(parseAmount('0.000000000000000001')).toBe(1n);
    expect(parseAmount('250wei')).toBe(250n);
    expect(parseAmount(' 7 WEI ')).toBe(7n);
  });

  it('refuses what is not an amount, saying how to write one', () => {
    for (const bad of ['', '-1', '1e18', '0.1234567890123456789', 'ten', '1.5wei']) {
      expect(() => parseAmount(bad)).toThrow(
        /not an amount: give ETH like 0.25, or wei like 250wei/,
      );
    }
  });
});
