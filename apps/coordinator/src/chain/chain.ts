import { EscrowClient } from '@tessera/escrow';
import { JsonRpcProvider, Wallet } from 'ethers';
import type { AppConfig } from '../config/config';

/** DI token: the escrow connection, or null when the coordinator runs without a chain. */
export const CHAIN = Symbol('CHAIN');

/** The coordinator's view of the chain: a provider, its signing key and the escrow. */
export interface Chain {
  provider: JsonRpcProvider;
  /** the coordinator role's key: signs settlements, slashes and closes */
  signer: Wallet;
  escrow: EscrowClient;
  chainId: bigint;
  confirmations: number;
  /** a sent transaction unmined this long is replaced with higher fees (CHAIN_TX_REPRICE_MS) */
  repriceMs: number;
  /** the most a transaction offers per gas, or null: no cap (CHAIN_MAX_FEE_PER_GAS_WEI) */
  maxFeePerGas: bigint | null;
}

/**
 * Connects to CHAIN_RPC_URL and checks, once at start-up, that the escrow exists there and that
 * the key holds the coordinator role, so a wrong address or key fails the boot with one line.
 */
export async function connectChain(config: AppConfig): Promise<Chain | null> {
  if (!config.CHAIN_RPC_URL) return null;
  // staticNetwork: no chain-id polling per request; the id is read once here.
  const probe = new JsonRpcProvider(config.CHAIN_RPC_URL);
  let chainId: bigint;
  try {
    chainId = (await probe.getNetwork()).chainId;
  } finally {
    probe.destroy();
  }
  const provider = new JsonRpcProvider(config.CHAIN_RPC_URL, chainId, {
    staticNetwork: true,
    polling: true,
    pollingInterval: config.CHAIN_POLL_MS,
  });
  const signer = new Wallet(config.COORDINATOR_KEY!, provider);
  const escrow = new EscrowClient(config.ESCROW_ADDRESS!, signer);
  if ((await provider.getCode(escrow.address)) === '0x') {
    throw new Error(`ESCROW_ADDRESS ${escrow.address} has no contract on chain ${chainId}`);
  }
  if (!(await escrow.isCoordinator(signer.address))) {
    throw new Error(
      `COORDINATOR_KEY (${signer.address}) does not hold the escrow's coordinator role`,
    );
  }
  return {
    provider,
    signer,
    escrow,
    chainId,
    confirmations: config.CHAIN_CONFIRMATIONS,
    repriceMs: config.CHAIN_TX_REPRICE_MS,
    maxFeePerGas: config.CHAIN_MAX_FEE_PER_GAS_WEI ?? null,
  };
}
