import { Inject, Injectable, Logger } from '@nestjs/common';
import { jobIdToBytes32 } from '@tessera/escrow';
import { Chain, CHAIN } from '../chain/chain';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventsService } from '../events/events.service';
import { ChainTxService } from './chain-tx.service';
import { LedgerWrite, PayoutsRepository } from './payouts.repository';
import { planSettlement, SettleArgs, SlashArgs } from './settlement-plan';

export type SettlementProgress = 'settled' | 'waiting' | 'failed' | 'nothing';

/**
 * Settles a job whose rendering is over: freezes what each node earned (verified renders of
 * nodes not convicted on the job), then drives the settle batches, slashes and the close/refund
 * through the escrow one after another. Safe to run any number of times, from any replica.
 */
@Injectable()
export class SettlementService {
  private readonly logger = new Logger(SettlementService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAIN) private readonly chain: Chain,
    private readonly repo: PayoutsRepository,
    private readonly txs: ChainTxService,
    private readonly events: EventsService,
  ) {}

  async settle(jobId: string): Promise<SettlementProgress> {
    const facts = await this.repo.settlementFacts(jobId);
    if (!facts || !['COMPLETED', 'CANCELLED', 'FAILED'].includes(facts.status)) return 'nothing';
    const jobKey = jobIdToBytes32(jobId);
    if (facts.payment === 'FUNDED' || facts.payment === 'AWAITING_FUNDS') {
      const onChain = await this.chain.escrow.getJob(jobKey);
      if (onChain.budget === 0n) {
        await this.repo.closeUnfunded(jobId);
        return 'nothing';
      }
      const plan = planSettlement({
        jobKey,
        priceWei: facts.priceWei,
        fundedWei: onChain.budget - onChain.spent,
        renders: facts.renders,
        convicted: facts.convicted.map((c) => c.address),
        slashWei: this.config.SLASH_WEI,
        batchSize: this.config.SETTLE_BATCH_SIZE,
      });
      if (plan.scaled) {
        this.logger.warn(`job ${jobId}: accepted work exceeds the deposit; payments scaled down`);
      }
      const accrued = [...plan.accrued].map(([address, amountWei]) => ({
        address,
        nodeId: facts.nodeIds.get(address) ?? null,
        amountWei,
      }));
      await this.repo.startSettlement(jobId, plan.txs, accrued, onChain.budget, onChain.requester);
    } else if (facts.payment !== 'SETTLING') {
      return facts.payment === 'FAILED' ? 'failed' : 'nothing';
    }

    const txs = await this.repo.txsOf(jobId);
    for (const tx of txs) {
      const progress = await this.txs.advance(tx, jobKey);
      if (progress !== 'confirmed') return progress;
    }
    const settled = await this.repo.txsOf(jobId);
    const requester = (await this.repo.settlementFacts(jobId))?.requesterAddress;
    const entries = ledgerOf(settled, facts.nodeIds, requester);
    if (await this.repo.finishSettlement(jobId, entries)) {
      this.logger.log(`job ${jobId} settled in ${settled.length} transaction(s)`);
      const hashes = new Map(settled.map((t) => [t.id, t.txHash ?? undefined]));
      for (const e of entries) {
        this.events.publish({
          type: 'payout',
          kind: e.kind.toLowerCase() as 'settled' | 'slashed' | 'refunded',
          jobId,
          nodeId: e.nodeId ?? undefined,
          amountWei: e.amountWei.toString(),
          txHash: hashes.get(e.chainTxId),
        });
      }
    }
    return 'settled';
  }
}

/** The ledger rows the confirmed transactions stand for. */
function ledgerOf(
  txs: Awaited<ReturnType<PayoutsRepository['txsOf']>>,
  nodeIds: Map<string, string>,
  requester: string | null | undefined,
): LedgerWrite[] {
  const entries: LedgerWrite[] = [];
  for (const tx of txs) {
    const outcome = (tx.outcome ?? {}) as Record<string, string>;
    if (tx.kind === 'SETTLE') {
      const { payees, amounts } = tx.args as unknown as SettleArgs;
      payees.forEach((address, i) =>
        entries.push({
          kind: 'SETTLED',
          address,
          nodeId: nodeIds.get(address),
          amountWei: BigInt(amounts[i]),
          chainTxId: tx.id,
        }),
      );
    } else if (tx.kind === 'SLASH') {
      const { operator } = tx.args as unknown as SlashArgs;
      entries.push({
        kind: 'SLASHED',
        address: operator,
        nodeId: nodeIds.get(operator),
        amountWei: BigInt(outcome.taken ?? 0),
        chainTxId: tx.id,
      });
    } else if (requester) {
      entries.push({
        kind: 'REFUNDED',
        address: requester,
        amountWei: BigInt(outcome.refund ?? 0),
        chainTxId: tx.id,
      });
    }
  }
  return entries;
}
