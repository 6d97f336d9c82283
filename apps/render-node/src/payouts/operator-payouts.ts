// The operator's side of the escrow: stake, unstake, withdraw and balances, signed with the node's
// own key straight against the chain (the coordinator never holds an operator's money or key).
import { API_PREFIX } from '@tessera/protocol';
import { decodeEscrowError, EscrowClient } from '@tessera/escrow';
import { JsonRpcProvider, parseEther, Wallet } from 'ethers';

export interface ChainInfo {
  enabled: boolean;
  chainId: string | null;
  escrowAddress: string | null;
  minStakeWei: string;
}

/** What a coordinator says about its chain: GET /api/v1/chain (no login needed). */
export async function fetchChainInfo(coordinatorUrl: string): Promise<ChainInfo> {
  const res = await fetch(`${coordinatorUrl.replace(/\/$/, '')}${API_PREFIX}/chain`);
  if (!res.ok) throw new Error(`the coordinator answered ${res.status} for its chain settings`);
  return (await res.json()) as ChainInfo;
}

/** "0.5" (ETH) or "500000000000000000wei": amounts as operators type them. */
export function parseAmount(text: string): bigint {
  const trimmed = text.trim();
  const wei = /^(\d+)\s*wei$/i.exec(trimmed);
  if (wei) return BigInt(wei[1]);
  if (!/^\d+(\.\d{1,18})?$/.test(trimmed)) {
    throw new Error(`"${text}" is not an amount: give ETH like 0.25, or wei like 250wei`);
  }
  return parseEther(trimmed);
}

export interface OperatorBalances {
  address: string;
  /** credited by settlements, ready to withdraw */
  withdrawableWei: bigint;
  stakeWei: bigint;
  pendingUnstakeWei: bigint;
  /** unix seconds when the pending unstake can be completed (0: none pending) */
  unstakeReadyAt: bigint;
}

export class OperatorPayouts {
  private constructor(
    readonly escrow: EscrowClient,
    readonly wallet: Wallet,
  ) {}

  /** Connects the node's key to `rpcUrl` and checks it is the chain the coordinator settles on. */
  static async connect(coordinatorUrl: string, rpcUrl: string, key: Wallet) {
    const info = await fetchChainInfo(coordinatorUrl);
    if (!info.enabled || !info.escrowAddress) {
      throw new Error(
        'this coordinator runs without a chain: there is nothing to stake or withdraw',
      );
    }
    const provider = new JsonRpcProvider(rpcUrl);
    let chainId: bigint;
    try {
      chainId = (await provider.getNetwork()).chainId;
    } catch (e) {
      provider.destroy();
      throw new Error(`cannot reach the chain at ${rpcUrl}: ${(e as Error).message}`, { cause: e });
    }
    if (String(chainId) !== info.chainId) {
      provider.destroy();
      throw new Error(
        `${rpcUrl} is chain ${chainId}, the coordinator settles on chain ${info.chainId}`,
      );
    }
    const wallet = key.connect(provider);
    return new OperatorPayouts(new EscrowClient(info.escrowAddress, wallet), wallet);
  }

  async balances(): Promise<OperatorBalances> {
    const address = this.wallet.address;
    const [withdrawableWei, stakeWei, pendingUnstakeWei, unstakeReadyAt] = await Promise.all([
      this.escrow.balanceOf(address),
      this.escrow.stakeOf(address),
      this.escrow.pendingUnstakeOf(address),
      this.escrow.unstakeReadyAt(address),
    ]);
    return { address, withdrawableWei, stakeWei, pendingUnstakeWei, unstakeReadyAt };
  }

  stake(amountWei: bigint) {
    return this.send(() => this.escrow.stake(amountWei));
  }

  requestUnstake(amountWei: bigint) {
    return this.send(() => this.escrow.requestUnstake(amountWei));
  }

  completeUnstake() {
    return this.send(() => this.escrow.completeUnstake());
  }

  withdraw() {
    return this.send(() => this.escrow.withdraw());
  }

  close(): void {
    this.wallet.provider?.destroy();
  }

  /** Sends and waits for the receipt; the escrow's refusals come back as one readable line. */
  private async send(
    tx: () => Promise<{ hash: string; wait(): Promise<unknown> }>,
  ): Promise<{ txHash: string }> {
    try {
      const sent = await tx();
      await sent.wait();
      return { txHash: sent.hash };
    } catch (e) {
      const reverted = decodeEscrowError(e);
      if (reverted) {
        throw new Error(`the escrow refused: ${escrowMessage(reverted)}`, { cause: e });
      }
      throw e;
    }
  }
}

function escrowMessage(e: { name: string; args: Record<string, unknown> }): string {
  switch (e.name) {
    case 'NothingToWithdraw':
      return 'nothing to withdraw yet';
    case 'InsufficientStake':
      return `only ${String(e.args.available)} wei is staked`;
    case 'UnstakeNotReady':
      return `the unstake completes after ${new Date(Number(e.args.readyAt) * 1000).toISOString()}`;
    case 'NoPendingUnstake':
      return 'no unstake is pending (request one first)';
    case 'EnforcedPause':
      return 'the escrow is paused';
    default:
      return e.name;
  }
}
