import { ConfigError, loadConfig } from './config';

const CHAIN = {
  CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  ESCROW_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  COORDINATOR_KEY: '0x' + 'ab'.repeat(32),
};

describe('loadConfig: chain settings', () => {
  it('runs without a chain by default', () => {
    const config = loadConfig({});
    expect(config.CHAIN_RPC_URL).toBeUndefined();
    expect(config.DEFAULT_PRICE_WEI).toBe(10n ** 12n);
    expect(config.MIN_STAKE_WEI).toBe(0n);
  });

  it('takes wei amounts as exact integers, beyond what a JS number holds', () => {
    const config = loadConfig({ ...CHAIN, SLASH_WEI: '123456789012345678901234567890' });
    expect(config.SLASH_WEI).toBe(123456789012345678901234567890n);
  });

  it('names every missing or malformed chain setting, one line each', () => {
    const error = (() => {
      try {
        loadConfig({ CHAIN_RPC_URL: CHAIN.CHAIN_RPC_URL, MIN_STAKE_WEI: '1.5' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/ESCROW_ADDRESS: required with CHAIN_RPC_URL/);
    expect(error.message).toMatch(/COORDINATOR_KEY: required with CHAIN_RPC_URL/);
    expect(error.message).toMatch(/MIN_STAKE_WEI: must be a whole number of wei/);
  });

  it('replaces stuck transactions after two minutes, with no fee cap unless one is set', () => {
    const defaults = loadConfig(CHAIN);
    expect(defaults.CHAIN_TX_REPRICE_MS).toBe(120_000);
    expect(defaults.CHAIN_MAX_FEE_PER_GAS_WEI).toBeUndefined();
    const config = loadConfig({
      ...CHAIN,
      CHAIN_TX_REPRICE_MS: '30000',
      CHAIN_MAX_FEE_PER_GAS_WEI: '200000000000',
    });
    expect(config.CHAIN_TX_REPRICE_MS).toBe(30_000);
    expect(config.CHAIN_MAX_FEE_PER_GAS_WEI).toBe(200n * 10n ** 9n);
    expect(() => loadConfig({ ...CHAIN, CHAIN_TX_REPRICE_MS: '10' })).toThrow(
      /CHAIN_TX_REPRICE_MS/,
    );
    expect(() => loadConfig({ ...CHAIN, CHAIN_MAX_FEE_PER_GAS_WEI: '200 gwei' })).toThrow(
      /CHAIN_MAX_FEE_PER_GAS_WEI: must be a whole number of wei/,
    );
    expect(() => loadConfig({ ...CHAIN, CHAIN_MAX_FEE_PER_GAS_WEI: '0' })).toThrow(
      /CHAIN_MAX_FEE_PER_GAS_WEI: must be above 0/,
    );
  });

  it('refuses a key or address of the wrong shape', () => {
    expect(() => loadConfig({ ...CHAIN, COORDINATOR_KEY: '0x1234' })).toThrow(/COORDINATOR_KEY/);
    expect(() => loadConfig({ ...CHAIN, ESCROW_ADDRESS: 'escrow' })).toThrow(/ESCROW_ADDRESS/);
  });
});
