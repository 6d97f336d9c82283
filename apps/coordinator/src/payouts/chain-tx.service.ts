import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEscrowError, escrowEvents, escrowInterface } from '@tessera/escrow';
import { Transaction, TransactionReceipt } from 'ethers';
import { Chain, CHAIN } from '../chain/chain';
import { ChainTxRow, PayoutsRepository } from './payouts.repository';
import type { SettleArgs, SlashArgs } from './settlement-plan';

export type TxProgress = 'confirmed' | 'waiting' | 'failed';

// A node that already has the transaction (or mined it) answers a re-broadcast with one of these.
const ALREADY_SENT = /already known|known transaction|nonce too low|nonce has already been used/i;

// The escrow's answers that mean "this step already happened on chain": the step is done.
const ALREADY_APPLIED = new Set(['BatchAlreadySettled', 'SlashAlreadyApplied', 'JobIsClosed']);

/**
 * Drives one escrow transaction from PENDING to CONFIRMED. The order of effects is what makes
 * retries safe: the transaction is signed with a nonce from the database and stored before it is
 * broadcast; afterwards only that same signed transaction is ever broadcast again (after a crash,
 * an RPC outage or a reorg that dropped it). It counts once its block is CHAIN_CONFIRMATIONS deep.
 */
@Injectable()
export class ChainTxService {
  private readonly logger = new Logger(ChainTxService.name);

  constructor(
    @Inject(CHAIN) private readonly chain: Chain,
    private readonly repo: PayoutsRepository,
  ) {}

  async advance(tx: ChainTxRow, jobKey: string): Promise<TxProgress> {
    if (tx.status === 'CONFIRMED') return 'confirmed';
    if (tx.status === 'FAILED') return 'failed';
    if (tx.status === 'PENDING') {
      const data = this.calldata(tx, jobKey);
      let gasLimit: bigint;
      try {
        gasLimit = await this.chain.provider.estimateGas({
          from: this.chain.signer.address,
          to: this.chain.escrow.address,
          data,
        });
      } catch (e) {
        const reverted = decodeEscrowError(e);
        if (!reverted) throw e; // RPC trouble: retried later
        if (ALREADY_APPLIED.has(reverted.name)) {
          // Only possible if the database lost a sent transaction: take the chain's word for it.
          await this.repo.markConfirmed(tx.id, await this.outcomeFromLogs(tx, jobKey));
          return 'confirmed';
        }
        await this.repo.markFailed(tx.id, tx.jobId, `${tx.kind} would revert: ${reverted.name}`);
        return 'failed';
      }
      await this.sign(tx, data, gasLimit);
      const signed = (await this.repo.txsOf(tx.jobId)).find((t) => t.id === tx.id);
      if (!signed) throw new Error(`transaction ${tx.id} vanished`);
      tx = signed;
    }
    return this.follow(tx);
  }

  private async sign(tx: ChainTxRow, data: string, gasLimit: bigint): Promise<void> {
    const { provider, signer, chainId } = this.chain;
    const chainNonce = await provider.getTransactionCount(signer.address, 'pending');
    await this.repo.ensureAccount(signer.address, chainNonce);
    const fees = await provider.getFeeData();
    await this.repo.signPending(tx.id, signer.address, chainNonce, async (nonce) => {
      const raw = await signer.signTransaction({
        type: 2,
        chainId,
        nonce,
        to: this.chain.escrow.address,
        data,
        value: 0n,
        // headroom over the estimate: state may move between estimate and inclusion
        gasLimit: (gasLimit * 12n) / 10n,
        maxFeePerGas: fees.maxFeePerGas ?? fees.gasPrice ?? undefined,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? undefined,
      });
      return { raw, hash: Transaction.from(raw).hash! };
    });
  }

  /** Broadcasts the stored transaction until it is mined, then waits for its depth. */
  private async follow(tx: ChainTxRow): Promise<TxProgress> {
    const { provider } = this.chain;
    let receipt = await provider.getTransactionReceipt(tx.txHash!);
    if (!receipt) {
      try {
        await provider.broadcastTransaction(tx.rawTx!);
      } catch (e) {
        if (!ALREADY_SENT.test(String((e as Error).message))) throw e;
      }
      receipt = await provider.getTransactionReceipt(tx.txHash!);
      if (!receipt) return 'waiting';
    }
    if (receipt.status !== 1) {
      await this.repo.markFailed(
        tx.id,
        tx.jobId,
        `${tx.kind} reverted in block ${receipt.blockNumber}`,
      );
      return 'failed';
    }
    const head = await provider.getBlockNumber();
    const mined = { blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
    if (head - receipt.blockNumber + 1 < this.chain.confirmations) {
      // Recorded for display; a reorg may still move it (the receipt then reads differently).
      await this.repo.markMined(tx.id, mined.blockNumber, mined.blockHash);
      return 'waiting';
    }
    await this.repo.markConfirmed(tx.id, this.outcomeOf(tx, receipt), mined);
    this.logger.log(`${tx.kind} #${tx.seq} of job ${tx.jobId} confirmed: ${tx.txHash}`);
    return 'confirmed';
  }

  private calldata(tx: ChainTxRow, jobKey: string): string {
    switch (tx.kind) {
      case 'SETTLE': {
        const a = tx.args as unknown as SettleArgs;
        return escrowInterface.encodeFunctionData('settle', [
          jobKey,
          BigInt(a.batchId),
          a.payees,
          a.amounts.map(BigInt),
        ]);
      }
      case 'SLASH': {
        const a = tx.args as unknown as SlashArgs;
        return escrowInterface.encodeFunctionData('slash', [
          jobKey,
          a.operator,
          BigInt(a.amount),
          a.slashId,
        ]);
      }
      case 'CLOSE':
        return escrowInterface.encodeFunctionData('closeJob', [jobKey]);
    }
  }

  /** What the transaction did, read from its events (amount slashed, refund). */
  private outcomeOf(tx: ChainTxRow, receipt: TransactionReceipt): Record<string, string> {
    const events = escrowEvents(receipt, this.chain.escrow.address);
    return outcomeFromEvents(tx, events);
  }

  private async outcomeFromLogs(tx: ChainTxRow, jobKey: string): Promise<Record<string, string>> {
    const filter = { address: this.chain.escrow.address, topics: [null, jobKey] };
    const logs = await this.chain.provider.getLogs({ ...filter, fromBlock: 0 });
    return { ...outcomeFromEvents(tx, escrowEvents(logs)), recoveredFromChain: 'true' };
  }
}

function outcomeFromEvents(
  tx: ChainTxRow,
  events: { name: string; args: Record<string, unknown> }[],
): Record<string, string> {
  switch (tx.kind) {
    case 'SETTLE': {
      const batchId = (tx.args as unknown as SettleArgs).batchId;
      const e = events.find((e) => e.name === 'BatchSettled' && String(e.args.batchId) === batchId);
      return { total: String(e?.args.total ?? 0) };
    }
    case 'SLASH': {
      const slashId = (tx.args as unknown as SlashArgs).slashId;
      const e = events.find((e) => e.name === 'Slashed' && e.args.slashId === slashId);
      return { taken: String(e?.args.taken ?? 0) };
    }
    case 'CLOSE': {
      const e = events.find((e) => e.name === 'JobClosed');
      return { refund: String(e?.args.refund ?? 0) };
    }
  }
}
