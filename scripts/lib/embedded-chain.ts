// The demo's own chain: a local EVM node (hardhat) with funded development accounts, the escrow
// deployed on it, and staked operators. Production points CHAIN_RPC_URL at a real chain instead.
import {
  deployLocalEscrow,
  devPrivateKey,
  EscrowClient,
  LOCAL_ROLES,
  LocalChain,
  startLocalChain,
} from '@tessera/escrow';
import { Wallet } from 'ethers';

// Development accounts on the local chain (hardhat's well-known keys, never real money): the
// escrow's roles are LOCAL_ROLES (0-2), then the requester and the operators.
const REQUESTER = 3;
const FIRST_OPERATOR = 4;

export interface EmbeddedChain {
  chain: LocalChain;
  escrow: EscrowClient;
  /** the coordinator's chain settings */
  env: NodeJS.ProcessEnv;
  requester: Wallet;
  /** private keys of the staked operators */
  operatorKeys: string[];
  stop(): Promise<void>;
}

export async function startEmbeddedChain(opts: {
  operators: number;
  stakeWei: bigint;
}): Promise<EmbeddedChain> {
  const chain = await startLocalChain({ accounts: FIRST_OPERATOR + opts.operators });
  try {
    const account = (i: number) => chain.accounts[i];
    const escrow = await deployLocalEscrow(chain, {
      unstakeDelaySeconds: 7 * 24 * 3600,
      jobTimeoutSeconds: 30 * 24 * 3600,
    });
    const operatorKeys: string[] = [];
    for (let i = 0; i < opts.operators; i++) {
      const operator = account(FIRST_OPERATOR + i);
      await (await escrow.connect(operator).stake(opts.stakeWei)).wait();
      operatorKeys.push(devPrivateKey(FIRST_OPERATOR + i));
    }
    return {
      chain,
      escrow,
      env: {
        CHAIN_RPC_URL: chain.url,
        ESCROW_ADDRESS: escrow.address,
        COORDINATOR_KEY: devPrivateKey(LOCAL_ROLES.coordinator),
        // hardhat mines a block per transaction: one block deep is final here
        CHAIN_CONFIRMATIONS: '1',
        CHAIN_POLL_MS: '500',
        MIN_STAKE_WEI: String(opts.stakeWei),
      },
      requester: account(REQUESTER),
      operatorKeys,
      stop: () => chain.stop(),
    };
  } catch (e) {
    await chain.stop();
    throw e;
  }
}
