import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEscrowError, EscrowError, escrowEvents, escrowInterface } from '@tessera/escrow';
import { isError, Transaction, TransactionReceipt } from 'ethers';
import { Chain, CHAIN } from '../chain/chain';
import { firstFees, gasFeesOf, replacementFees } from './fee-bump';
import { ChainTxRow, PayoutsRepository } from './payouts.repository';
import type { SettleArgs, SlashArgs } from './settlement-plan';

export type TxProgress = 'confirmed' | 'waiting' | 'failed';

// A node that already has the transaction (or mined it) answers a re-broadcast with one of these.
const ALREADY_SENT = /already known|known transaction|nonce too low|nonce has already been used/i;

// A node that will not take the transaction at its fees (a replacement of ours it holds at higher
// ones, its minimum price, a base fee above the cap): the step waits and, once due, is replaced.
const FEE_TOO_LOW = /underpriced|too low for the next block|less than (the )?block base fee/i;

// The escrow's answers that mean "this step already happened on chain": the step is done.
const ALREADY_APPLIED = new Set(['BatchAlreadySettled', 'SlashAlreadyApplied', 'JobIsClosed']);

/**
 * The escrow's refusals that end when someone acts, not rule violations: the admin unpauses, or
 * the coordinator's key gets the role back (or the coordinator restarts with the rotated key).
 * The step waits for that; failing it would stop the job's payouts for good, and the requester
 * could later reclaim the operators' share of the deposit.
 */
export function waitReason(refusal: EscrowError, signer: string): string | null {
  switch (refusal.name) {
    case 'EnforcedPause':
      return 'escrow paused: settlement waits until it is unpaused';
    case 'AccessControlUnauthorizedAccount':
      return (
        `the coordinator key ${signer} does not hold the escrow's coordinator role (rotated?): ` +
        'settlement waits until it does, or until a coordinator runs with the new key'
      );
    default:
      return null;
  }
}

// Asking a paused escrow again every poll is pointless: waiting steps back off, 1 s doubling to
// 30 s, so an unpause is noticed within 30 s. Kept per replica (a restart just asks at once).
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

/**
 * Drives one escrow transaction from PENDING to CONFIRMED. The order of effects is what makes
 * retries safe: the transaction is signed with a nonce from the database and stored before it is
 * broadcast; afterwards only stored signed transactions are ever broadcast (again after a crash,
 * an RPC outage or a reorg that dropped it). One still unmined after CHAIN_TX_REPRICE_MS (priced
 * under a risen base fee, it would hold its nonce and every later step) is signed again with the
 * same nonce and higher fees, stored next to the hashes it replaces, then broadcast; whichever of
 * them is mined is the step's. It counts once its block is CHAIN_CONFIRMATIONS deep.
 * A step the escrow refuses for now (paused, or our key lacks the role) waits with the reason on
 * the job; one that breaks the escrow's rules fails the job's settlement with the reason.
 */
@Injectable()
export class ChainTxService {
  private readonly logger = new Logger(ChainTxService.name);
  /** transaction id -> when a step the escrow refused for now is asked again */
  private readonly backoff = new Map<string, { attempts: number; retryAt: number }>();

  constructor(
    @Inject(CHAIN) private readonly chain: Chain,
    private readonly repo: PayoutsRepository,
  ) {}

  async advance(tx: ChainTxRow, jobKey: string): Promise<TxProgress> {
    if (tx.status === 'CONFIRMED') return 'confirmed';
    if (tx.status === 'FAILED') return 'failed';
    if (tx.status === 'PENDING') {
      const waiting = this.backoff.get(tx.id);
      if (waiting && Date.now() < waiting.retryAt) return 'waiting';
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
          await this.resumed(tx);
          await this.repo.markConfirmed(tx.id, await this.outcomeFromLogs(tx, jobKey));
          return 'confirmed';
        }
        const reason = waitReason(reverted, this.chain.signer.address);
        if (reason) {
          await this.wait(tx, reason, `${tx.kind} #${tx.seq} refused with ${reverted.name}`);
          return 'waiting';
        }
        await this.repo.markFailed(tx.id, tx.jobId, `${tx.kind} would revert: ${reverted.name}`);
        return 'failed';
      }
      await this.resumed(tx);
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
    const fees = firstFees(gasFeesOf(await provider.getFeeData()), this.chain.maxFeePerGas);
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
        ...fees,
      });
      return { raw, hash: Transaction.from(raw).hash! };
    });
  }

  /**
   * Broadcasts the step's latest signed transaction until one of its transactions is mined (a
   * replaced one may be), replacing it when it stays unmined; then waits for its depth.
   */
  private async follow(tx: ChainTxRow): Promise<TxProgress> {
    const { provider } = this.chain;
    let receipt = await this.receiptOf(tx);
    if (!receipt) {
      await this.broadcast(tx);
      receipt = await this.receiptOf(tx);
      if (!receipt) return this.unmined(tx);
    }
    const minedHash = receipt.hash;
    if (minedHash !== tx.txHash) {
      // an earlier signature of the step was mined, not its replacement
      const others = hashesOf(tx).filter((h) => h !== minedHash);
      await this.repo.minedAs(tx.id, minedHash, others);
      this.logger.log(`${tx.kind} #${tx.seq} of job ${tx.jobId} mined as ${minedHash}`);
      tx = { ...tx, txHash: minedHash, replacedHashes: others };
    }
    if (tx.error) {
      // mined: a note that its fees were at the cap no longer holds
      await this.repo.clearWaiting(tx.id, tx.jobId, 'SENT');
      tx = { ...tx, error: null };
    }
    const head = await provider.getBlockNumber();
    const mined = { blockNumber: receipt.blockNumber, blockHash: receipt.blockHash };
    if (head - receipt.blockNumber + 1 < this.chain.confirmations) {
      // Recorded for display; a reorg may still move it (the receipt then reads differently).
      // A revert waits for its depth too: a reorg may yet include the transaction elsewhere.
      await this.repo.markMined(tx.id, mined.blockNumber, mined.blockHash);
      return 'waiting';
    }
    if (receipt.status !== 1) return this.reverted(tx, receipt.blockNumber);
    await this.repo.markConfirmed(tx.id, this.outcomeOf(tx, receipt), mined);
    this.logger.log(`${tx.kind} #${tx.seq} of job ${tx.jobId} confirmed: ${tx.txHash}`);
    return 'confirmed';
  }

  /** The receipt of whichever of the step's transactions is mined, if one is. */
  private async receiptOf(tx: ChainTxRow): Promise<TransactionReceipt | null> {
    const { provider } = this.chain;
    const receipts = await Promise.all(hashesOf(tx).map((h) => provider.getTransactionReceipt(h)));
    return receipts.find((r) => r !== null) ?? null;
  }

  /** Sends the step's latest signed transaction (again). */
  private async broadcast(tx: ChainTxRow): Promise<void> {
    try {
      await this.chain.provider.broadcastTransaction(tx.rawTx!);
    } catch (e) {
      const message = String((e as Error).message);
      if (ALREADY_SENT.test(message)) return;
      if (!FEE_TOO_LOW.test(message)) throw e;
      this.logger.debug(`${tx.kind} #${tx.seq} of job ${tx.jobId} not taken yet: ${message}`);
    }
  }

  /**
   * A sent step none of whose transactions is mined. Once the latest has waited
   * CHAIN_TX_REPRICE_MS it is signed again with the same nonce, calldata and gas limit, and fees
   * raised to the chain's or by 12.5%, within CHAIN_MAX_FEE_PER_GAS_WEI (nodes refuse a
   * replacement raised by less than 10%). The replacement is stored, next to the hashes it
   * replaces, before it is broadcast: a crash never forgets a transaction that may be mined.
   */
  private async unmined(tx: ChainTxRow): Promise<TxProgress> {
    const { provider, signer, chainId, repriceMs, maxFeePerGas: cap } = this.chain;
    const unminedMs = Date.now() - (tx.sentAt?.getTime() ?? 0);
    if (unminedMs < repriceMs) return 'waiting';
    const sent = Transaction.from(tx.rawTx!);
    const previous = gasFeesOf(sent);
    const what = `${tx.kind} #${tx.seq} ${tx.txHash} (nonce ${sent.nonce})`;
    const waited = `unmined for ${Math.round(unminedMs / 1000)} s`;
    if (tx.fromAddress?.toLowerCase() !== signer.address.toLowerCase()) {
      // another account's nonce: only a coordinator holding that key may sign it again
      const reason =
        `a settlement transaction waits unmined, signed by ${tx.fromAddress}: only a ` +
        'coordinator with that key can replace it with higher fees';
      await this.noteUnmined(tx, reason, `${what} ${waited}: ${reason}`);
      return 'waiting';
    }
    if ((await provider.getTransactionCount(signer.address, 'latest')) > sent.nonce) {
      // the nonce is taken: by one of these (its receipt not visible to this node yet) or by a
      // transaction of this key we did not sign; a replacement could not be mined either way
      return 'waiting';
    }
    const replacement = replacementFees(previous, gasFeesOf(await provider.getFeeData()), cap);
    if ('capped' in replacement) {
      const reason =
        `fees at the cap: a settlement transaction waits unmined at ${previous.maxFeePerGas} wei ` +
        `per gas; replacing it needs ${replacement.capped.needed}, above ` +
        `CHAIN_MAX_FEE_PER_GAS_WEI (${cap}). It goes through when the chain's fees fall or ` +
        'the cap is raised';
      await this.noteUnmined(tx, reason, `${what} ${waited}: ${reason}`);
      return 'waiting';
    }
    const raw = await signer.signTransaction({
      type: 2,
      chainId,
      nonce: sent.nonce,
      to: sent.to,
      data: sent.data,
      value: sent.value,
      gasLimit: sent.gasLimit,
      ...replacement.fees,
    });
    const hash = Transaction.from(raw).hash!;
    // false: another replica replaced it first; this signature was never stored, so never sent
    if (!(await this.repo.replaceSent({ ...tx, txHash: tx.txHash! }, { raw, hash }))) {
      return 'waiting';
    }
    this.logger.warn(
      `job ${tx.jobId}: ${what} ${waited} at ${previous.maxFeePerGas} wei per gas: ` +
        `replaced by ${hash} at ${replacement.fees.maxFeePerGas}`,
    );
    await this.broadcast({ ...tx, rawTx: raw, txHash: hash });
    return 'waiting';
  }

  /** A sent step that stays unmined and cannot be replaced: noted on the job. */
  private async noteUnmined(tx: ChainTxRow, reason: string, detail: string): Promise<void> {
    if (await this.repo.noteWaiting(tx.id, tx.jobId, reason, detail, 'SENT')) {
      this.logger.warn(`job ${tx.jobId}: ${detail}`);
    }
  }

  /**
   * A mined transaction that reverted, at depth. Replayed on its block's state to learn why: a
   * pause or a missing role sends the step back to PENDING, to be signed again with a new nonce
   * once the escrow accepts it (the reverted one changed nothing but its nonce); anything else
   * fails the settlement.
   */
  private async reverted(tx: ChainTxRow, blockNumber: number): Promise<TxProgress> {
    let refusal: EscrowError | null = null;
    try {
      await this.chain.provider.call({
        from: tx.fromAddress ?? this.chain.signer.address,
        to: this.chain.escrow.address,
        data: Transaction.from(tx.rawTx!).data,
        blockTag: blockNumber,
      });
    } catch (e) {
      refusal = decodeEscrowError(e);
      if (!refusal && !isError(e, 'CALL_EXCEPTION')) throw e; // RPC trouble: retried later
    }
    const what = `${tx.kind} ${tx.txHash} reverted in block ${blockNumber}`;
    const reason = refusal && waitReason(refusal, tx.fromAddress ?? this.chain.signer.address);
    if (refusal && reason) {
      await this.repo.unsignReverted(tx.id);
      await this.wait(tx, reason, `${what} (${refusal.name})`);
      return 'waiting';
    }
    await this.repo.markFailed(tx.id, tx.jobId, refusal ? `${what}: ${refusal.name}` : what);
    return 'failed';
  }

  /** The escrow no longer refuses a step that waited: its note goes. */
  private async resumed(tx: ChainTxRow): Promise<void> {
    if (!this.backoff.delete(tx.id) && !tx.error) return;
    await this.repo.clearWaiting(tx.id, tx.jobId);
    this.logger.log(`job ${tx.jobId}: the escrow accepts ${tx.kind} #${tx.seq} again`);
  }

  /** A step the escrow refuses for now: noted on the job, asked again after a backoff. */
  private async wait(tx: ChainTxRow, reason: string, detail: string): Promise<void> {
    const attempts = (this.backoff.get(tx.id)?.attempts ?? 0) + 1;
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** (attempts - 1), BACKOFF_MAX_MS);
    this.backoff.set(tx.id, { attempts, retryAt: Date.now() + delay });
    if (await this.repo.noteWaiting(tx.id, tx.jobId, reason, `${detail}: ${reason}`)) {
      this.logger.warn(`job ${tx.jobId}: ${detail}; ${reason}`);
    }
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

/** Every signed transaction of a sent step, the latest (or the mined one) first. */
function hashesOf(tx: ChainTxRow): string[] {
  return [tx.txHash!, ...tx.replacedHashes.filter((h) => h !== tx.txHash)];
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
