import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { escrowInterface, jobIdToBytes32 } from '@tessera/escrow';
import { Transaction } from 'ethers';
import type { Requester } from '../auth/guards';
import { Chain, CHAIN } from '../chain/chain';
import { APP_CONFIG, AppConfig } from '../config/config';
import { VerificationStrength } from '../jobs/dto/create-job.dto';
import { tileGeometryOf } from '../planning/tile-geometry';
import { priceOf, quoteJob, samplesOf } from '../pricing/pricing';
import { PayoutsRepository } from './payouts.repository';

const wei = (d: { toFixed(digits: number): string } | null | undefined) =>
  d ? d.toFixed(0) : null;

/** Quotes, funding, and the ledger as requesters and node operators see it. */
@Injectable()
export class PayoutsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAIN) private readonly chain: Chain | null,
    private readonly repo: PayoutsRepository,
  ) {}

  /** What the chain side of this coordinator is: for agents (staking) and requesters (funding). */
  chainInfo() {
    return {
      enabled: this.chain !== null,
      chainId: this.chain ? this.chain.chainId.toString() : null,
      escrowAddress: this.chain?.escrow.address ?? null,
      confirmations: this.chain?.confirmations ?? null,
      minStakeWei: this.config.MIN_STAKE_WEI.toString(),
      defaultPriceWei: this.config.DEFAULT_PRICE_WEI.toString(),
      workUnit: '1 megapixel x 100 samples',
    };
  }

  async quote(requester: Requester, jobId: string) {
    const job = await this.repo.findJobForRequester(jobId, requester.apiKeyId);
    if (!job) throw new NotFoundException('no such job');
    if (job.shards.length === 0) {
      throw new ConflictException(`job is ${job.status.toLowerCase()}: no tiles to quote`);
    }
    const settings = job.settings as { verification: string };
    const samples = samplesOf(job);
    const tiles = job.shards.map(tileGeometryOf);
    const priceWei = BigInt(wei(job.priceWei) ?? this.config.DEFAULT_PRICE_WEI);
    const q = quoteJob({
      tiles,
      samples,
      priceWei,
      verification: settings.verification as VerificationStrength,
    });
    const jobKey = jobIdToBytes32(job.id);
    return {
      jobId: job.id,
      workUnits: q.workUnits,
      priceWei: priceWei.toString(),
      workWei: q.workWei.toString(),
      verificationWei: q.verificationWei.toString(),
      verificationRatio: q.verificationRatio,
      budgetWei: wei(job.budgetWei),
      depositWei: wei(job.depositWei) ?? q.depositWei.toString(),
      fundedWei: wei(job.fundedWei) ?? '0',
      payment: job.payment,
      note: job.paymentNote,
      escrow: this.chain
        ? {
            chainId: this.chain.chainId.toString(),
            address: this.chain.escrow.address,
            jobKey,
            call: `fund(${jobKey})`,
          }
        : null,
    };
  }

  /**
   * Broadcasts a requester's signed deposit. Checked before it reaches the chain: it must call
   * fund() of this escrow for this job on this chain with a value; the deposit counts once the
   * funding watcher sees it confirmed.
   */
  async fund(requester: Requester, jobId: string, signedTx: string) {
    const chain = this.requireChain();
    const job = await this.repo.findJobForRequester(jobId, requester.apiKeyId);
    if (!job) throw new NotFoundException('no such job');
    let tx: Transaction;
    try {
      tx = Transaction.from(signedTx);
    } catch (e) {
      throw new BadRequestException(`not a signed transaction: ${(e as Error).message}`);
    }
    if (!tx.signature || !tx.from) throw new BadRequestException('the transaction is not signed');
    if (tx.chainId !== chain.chainId) {
      throw new BadRequestException(
        `signed for chain ${tx.chainId}, the escrow is on ${chain.chainId}`,
      );
    }
    if (tx.to?.toLowerCase() !== chain.escrow.address.toLowerCase()) {
      throw new BadRequestException(
        `the transaction must be sent to the escrow ${chain.escrow.address}`,
      );
    }
    const call = escrowInterface.parseTransaction({ data: tx.data, value: tx.value });
    const jobKey = jobIdToBytes32(job.id);
    if (call?.name !== 'fund' || call.args[0] !== jobKey) {
      throw new BadRequestException(`the transaction must call fund(${jobKey})`);
    }
    if (tx.value === 0n) throw new BadRequestException('the deposit has no value');
    try {
      const sent = await chain.provider.broadcastTransaction(signedTx);
      return { txHash: sent.hash, from: tx.from, valueWei: tx.value.toString() };
    } catch (e) {
      throw new BadRequestException(`the chain refused the transaction: ${(e as Error).message}`);
    }
  }

  /** Admins: settles a job whose settlement failed again, once what stopped it is fixed. */
  async retrySettlement(jobId: string) {
    this.requireChain();
    if (!(await this.repo.retryFailedSettlement(jobId))) {
      throw new ConflictException('only a failed settlement can be retried');
    }
    return { jobId, payment: 'SETTLING' };
  }

  async jobLedger(requester: Requester, jobId: string) {
    const job = await this.repo.findJobForRequester(jobId, requester.apiKeyId);
    if (!job) throw new NotFoundException('no such job');
    const entries = await this.repo.ledgerOf(jobId);
    // What verification costs the requester, next to the work: checks are paid like tiles.
    const pixels = await this.repo.verifiedPixelsByKind(jobId);
    const samples = BigInt(samplesOf(job));
    const price = BigInt(wei(job.priceWei) ?? 0);
    return {
      jobId,
      payment: job.payment,
      note: job.paymentNote,
      fundedWei: wei(job.fundedWei),
      costSoFar: {
        workWei: priceOf(pixels.work * samples, price).toString(),
        verificationWei: priceOf(pixels.checks * samples, price).toString(),
      },
      entries: entries.map((e) => ({
        kind: e.kind,
        address: e.address,
        nodeId: e.nodeId,
        amountWei: e.amountWei.toFixed(0),
        txHash: e.chainTx?.txHash ?? null,
        blockNumber: e.chainTx?.blockNumber ?? null,
        at: e.createdAt,
      })),
    };
  }

  /** Settlements, slashes and refunds: the requester's jobs, or the whole farm for admins. */
  async payouts(requester: Requester, limit = 200) {
    const scope = requester.admin ? {} : { apiKeyId: requester.apiKeyId };
    const entries = await this.repo.payoutsOf(scope, limit);
    return {
      items: entries.map((e) => ({
        id: e.id,
        kind: e.kind.toLowerCase(),
        jobId: e.jobId,
        nodeId: e.nodeId,
        nodeName: e.node?.name ?? null,
        address: e.address,
        amountWei: e.amountWei.toFixed(0),
        txHash: e.chainTx?.txHash ?? null,
        // signed earlier for the same step at lower fees and replaced (see ChainTxService)
        replacedTxHashes: e.chainTx?.replacedHashes.filter((h) => h !== e.chainTx?.txHash) ?? [],
        blockNumber: e.chainTx?.blockNumber ?? null,
        status: e.chainTx?.status.toLowerCase() ?? null,
        createdAt: e.createdAt,
      })),
    };
  }

  async earnings(address: string) {
    const e = await this.repo.earningsOf(address);
    return {
      address,
      accruedWei: e.accrued.toString(),
      settledWei: e.settled.toString(),
      // accrued on jobs whose settlement is not confirmed yet
      pendingWei: (e.accrued - e.settled).toString(),
      slashedWei: e.slashed.toString(),
      recent: e.recent.map((r) => ({
        jobId: r.jobId,
        kind: r.kind,
        amountWei: r.amountWei.toFixed(0),
        txHash: r.chainTx?.txHash ?? null,
        at: r.createdAt,
      })),
    };
  }

  private requireChain(): Chain {
    if (!this.chain) throw new ConflictException('this coordinator runs without a chain');
    return this.chain;
  }
}
