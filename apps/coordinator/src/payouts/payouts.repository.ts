import { Injectable } from '@nestjs/common';
import { SHARD_GEOMETRY_SELECT } from '../planning/tile-geometry';
import { AcceptedRender, samplesOf } from '../pricing/pricing';
import { Prisma, PrismaService } from '../prisma/prisma.service';
import type { PlannedTx } from './settlement-plan';

// All of the payouts module's database access. Amounts cross this boundary as bigint and are
// stored as NUMERIC(78,0); every state change is guarded by the state it leaves, so replicas and
// retries can run any step twice.

export type ChainTxRow = Awaited<ReturnType<PayoutsRepository['txsOf']>>[number];

export interface SettlementFacts {
  id: string;
  status: string;
  payment: string;
  priceWei: bigint;
  fundedWei: bigint;
  requesterAddress: string | null;
  renders: AcceptedRender[];
  /** convicted operators: address and node id */
  convicted: { address: string; nodeId: string }[];
  /** node address -> node id, for the ledger */
  nodeIds: Map<string, string>;
}

export interface LedgerWrite {
  kind: 'SETTLED' | 'SLASHED' | 'REFUNDED';
  address: string;
  nodeId?: string | null;
  amountWei: bigint;
  chainTxId: string;
}

const big = (d: Prisma.Decimal | null | undefined): bigint => BigInt(d ? d.toFixed(0) : 0);

/** A step back to before it was signed: a new signature, nonce and hash come when it is sent. */
const UNSIGNED = {
  fromAddress: null,
  nonce: null,
  rawTx: null,
  txHash: null,
  replacedHashes: [] as string[],
  blockNumber: null,
  blockHash: null,
  sentAt: null,
};

/** The step statuses that carry a waiting note: before signing, and sent but not mined. */
type NotedStatus = 'PENDING' | 'SENT';

@Injectable()
export class PayoutsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Planned jobs whose deposit has not been seen yet. */
  awaitingFunds() {
    return this.prisma.job
      .findMany({
        where: { payment: 'AWAITING_FUNDS', status: 'RENDERING' },
        select: { id: true, depositWei: true, fundedWei: true },
        orderBy: { createdAt: 'asc' },
        take: 500,
      })
      .then((jobs) =>
        jobs.map((j) => ({ id: j.id, depositWei: big(j.depositWei), fundedWei: big(j.fundedWei) })),
      );
  }

  /** Opens the job for leasing: the escrow holds its deposit. */
  async markFunded(id: string, fundedWei: bigint, requester: string): Promise<boolean> {
    const { count } = await this.prisma.job.updateMany({
      where: { id, payment: 'AWAITING_FUNDS' },
      data: {
        payment: 'FUNDED',
        fundedWei: fundedWei.toString(),
        requesterAddress: requester,
        paymentNote: null,
      },
    });
    return count === 1;
  }

  noteFunding(id: string, fundedWei: bigint, note: string) {
    return this.prisma.job.updateMany({
      where: { id, payment: 'AWAITING_FUNDS' },
      data: { fundedWei: fundedWei.toString(), paymentNote: note },
    });
  }

  /**
   * Jobs whose rendering is over and whose escrow still has to be settled. A completed job has no
   * render left on its way (it completes once its checks are resolved: jobs/job-completion.ts). A
   * job ended early waits `graceMs` first: tiles uploaded just before the cancel are still being
   * verified, and verified work is paid.
   */
  async jobsToSettle(graceMs: number): Promise<string[]> {
    const cancelledBefore = new Date(Date.now() - graceMs);
    const jobs = await this.prisma.job.findMany({
      where: {
        OR: [
          { status: 'COMPLETED', payment: { in: ['FUNDED', 'SETTLING'] } },
          {
            // ended early (cancelled, or failed): verified work is paid, the rest goes back; a
            // cancelled job may have been partly funded, and that deposit goes back too
            status: { in: ['CANCELLED', 'FAILED'] },
            payment: { in: ['FUNDED', 'SETTLING', 'AWAITING_FUNDS'] },
            completedAt: { lt: cancelledBefore },
          },
        ],
      },
      select: { id: true },
      take: 100,
    });
    return jobs.map((j) => j.id);
  }

  async settlementFacts(jobId: string): Promise<SettlementFacts | null> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: {
        id: true,
        status: true,
        payment: true,
        priceWei: true,
        fundedWei: true,
        requesterAddress: true,
        settings: true,
        sceneInfo: true,
      },
    });
    if (!job) return null;
    const samples = samplesOf(job);
    // Verified renders (work and checks alike) of nodes that were not convicted on the job.
    const rows = await this.prisma.$queryRaw<
      { payee: string; nodeId: string; width: number; height: number }[]
    >`
      SELECT n.address AS payee, n.id::text AS "nodeId", s.width, s.height
      FROM shards s
      JOIN results r ON r.id = s.result_id
      JOIN nodes n ON n.id = r.node_id
      WHERE s.job_id = ${jobId}::uuid AND s.verified_at IS NOT NULL
        AND NOT EXISTS (
          SELECT 1 FROM job_blocklist b WHERE b.job_id = s.job_id AND b.node_id = r.node_id)
      ORDER BY s.frame_number, s.tile_y, s.tile_x, s.id`;
    const convicted = await this.prisma.$queryRaw<{ address: string; nodeId: string }[]>`
      SELECT n.address, n.id::text AS "nodeId"
      FROM job_blocklist b JOIN nodes n ON n.id = b.node_id
      WHERE b.job_id = ${jobId}::uuid
      ORDER BY n.address`;
    const nodeIds = new Map<string, string>();
    for (const r of [...rows, ...convicted]) {
      nodeIds.set('payee' in r ? r.payee : r.address, r.nodeId);
    }
    return {
      id: job.id,
      status: job.status,
      payment: job.payment,
      priceWei: big(job.priceWei),
      fundedWei: big(job.fundedWei),
      requesterAddress: job.requesterAddress,
      renders: rows.map((r) => ({ payee: r.payee, width: r.width, height: r.height, samples })),
      convicted,
      nodeIds,
    };
  }

  /**
   * Freezes what the job owes: the accrued ledger and the transactions that pay it, written
   * together and only once (the job leaves FUNDED/AWAITING_FUNDS in the same transaction).
   */
  async startSettlement(
    jobId: string,
    txs: PlannedTx[],
    accrued: { address: string; nodeId: string | null; amountWei: bigint }[],
    fundedWei: bigint,
    requester: string | null,
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.job.updateMany({
        where: { id: jobId, payment: { in: ['FUNDED', 'AWAITING_FUNDS'] } },
        data: {
          payment: 'SETTLING',
          fundedWei: fundedWei.toString(),
          requesterAddress: requester,
          paymentNote: null,
        },
      });
      if (count === 0) return false;
      await tx.chainTx.createMany({
        data: txs.map((t) => ({
          jobId,
          seq: t.seq,
          kind: t.kind,
          args: t.args as unknown as Prisma.InputJsonValue,
        })),
      });
      await tx.ledgerEntry.createMany({
        data: accrued.map((a) => ({
          jobId,
          kind: 'ACCRUED' as const,
          address: a.address,
          nodeId: a.nodeId,
          amountWei: a.amountWei.toString(),
        })),
        skipDuplicates: true,
      });
      return true;
    });
  }

  /** A job that has nothing on the escrow to settle (never funded, then cancelled or failed). */
  closeUnfunded(jobId: string) {
    return this.prisma.job.updateMany({
      where: { id: jobId, payment: 'AWAITING_FUNDS', status: { in: ['CANCELLED', 'FAILED'] } },
      data: { payment: 'NONE', paymentNote: 'ended before any deposit' },
    });
  }

  txsOf(jobId: string) {
    return this.prisma.chainTx.findMany({ where: { jobId }, orderBy: { seq: 'asc' } });
  }

  /** Seeds an account's nonce counter from the chain the first time it signs. */
  async ensureAccount(address: string, chainNonce: number): Promise<void> {
    await this.prisma.chainAccount.createMany({
      data: [{ address, nextNonce: chainNonce }],
      skipDuplicates: true,
    });
  }

  /**
   * Gives a pending transaction the account's next nonce and stores it signed, atomically: a nonce
   * is never handed out without the transaction that uses it being on record, and a transaction
   * is signed once. `sign` runs inside the database transaction (local signing only).
   *
   * The counter is checked against the chain's count of the account's transactions (`chainNonce`,
   * pending included): behind it (the key was used elsewhere) it catches up; ahead of it, the gap
   * must be our own transactions still in flight, or the chain has forgotten them (a development
   * chain started afresh) and the count starts again from the chain's.
   */
  async signPending(
    txId: string,
    from: string,
    chainNonce: number,
    sign: (nonce: number) => Promise<{ raw: string; hash: string }>,
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const pending = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM chain_txs WHERE id = ${txId}::uuid AND status = 'PENDING' FOR UPDATE`;
      if (pending.length === 0) return false;
      const [account] = await tx.$queryRaw<{ nextNonce: number }[]>`
        SELECT next_nonce AS "nextNonce" FROM chain_accounts WHERE address = ${from} FOR UPDATE`;
      if (!account) throw new Error(`no nonce counter for ${from}`);
      let nonce = Math.max(account.nextNonce, chainNonce);
      if (account.nextNonce > chainNonce) {
        const inFlight = await tx.chainTx.count({
          where: {
            fromAddress: from,
            status: 'SENT',
            nonce: { gte: chainNonce, lt: account.nextNonce },
          },
        });
        if (inFlight < account.nextNonce - chainNonce) nonce = chainNonce;
      }
      const { raw, hash } = await sign(nonce);
      await tx.chainTx.update({
        where: { id: txId },
        data: {
          status: 'SENT',
          fromAddress: from,
          nonce,
          rawTx: raw,
          txHash: hash,
          sentAt: new Date(),
        },
      });
      await tx.chainAccount.update({
        where: { address: from },
        data: { nextNonce: nonce + 1 },
      });
      return true;
    });
  }

  /**
   * A sent step signed again with its nonce and higher fees (replacement by fee), stored before
   * it is broadcast. The hash it replaces joins the step's earlier ones: any of them may still be
   * mined. Guarded by the hash it replaces, so of two replicas replacing at once only one stores
   * (and broadcasts) its signature. A note the step had (fees at the cap) goes. False when
   * another replica replaced it first, or the step moved on.
   */
  async replaceSent(
    tx: {
      id: string;
      jobId: string;
      txHash: string;
      replacedHashes: string[];
      error: string | null;
    },
    signed: { raw: string; hash: string },
  ): Promise<boolean> {
    return this.prisma.$transaction(async (db) => {
      const { count } = await db.chainTx.updateMany({
        where: { id: tx.id, status: 'SENT', txHash: tx.txHash },
        data: {
          rawTx: signed.raw,
          txHash: signed.hash,
          replacedHashes: [...new Set([...tx.replacedHashes, tx.txHash])],
          // none of its transactions is mined (a block seen earlier was reorganised away)
          blockNumber: null,
          blockHash: null,
          sentAt: new Date(),
          error: null,
        },
      });
      if (count === 1 && tx.error) {
        await db.job.updateMany({
          where: { id: tx.jobId, payment: 'SETTLING' },
          data: { paymentNote: null },
        });
      }
      return count === 1;
    });
  }

  /**
   * The step was mined under one of its earlier hashes (a replacement came too late): that hash
   * becomes the step's, the others, the latest included, stay watched (a reorg may yet swap them).
   */
  minedAs(txId: string, txHash: string, replacedHashes: string[]) {
    return this.prisma.chainTx.updateMany({
      where: { id: txId, status: 'SENT' },
      data: { txHash, replacedHashes },
    });
  }

  markMined(txId: string, blockNumber: number, blockHash: string) {
    return this.prisma.chainTx.updateMany({
      where: { id: txId, status: 'SENT' },
      data: { blockNumber, blockHash },
    });
  }

  markConfirmed(txId: string, outcome: object, mined?: { blockNumber: number; blockHash: string }) {
    return this.prisma.chainTx.updateMany({
      where: { id: txId, status: { in: ['PENDING', 'SENT'] } },
      data: {
        status: 'CONFIRMED',
        outcome: outcome as Prisma.InputJsonValue,
        confirmedAt: new Date(),
        ...mined,
      },
    });
  }

  /**
   * A step that waits: refused by the escrow for now (paused, or our key lacks the role; PENDING),
   * or sent and unmined with its fees at the cap (SENT). The transaction keeps the details, the
   * job's payment note the reason. True when the note changed.
   */
  async noteWaiting(
    txId: string,
    jobId: string,
    reason: string,
    detail: string,
    status: NotedStatus = 'PENDING',
  ) {
    const [, job] = await this.prisma.$transaction([
      this.prisma.chainTx.updateMany({
        where: { id: txId, status },
        data: { error: detail },
      }),
      this.prisma.job.updateMany({
        where: {
          id: jobId,
          payment: 'SETTLING',
          OR: [{ paymentNote: null }, { paymentNote: { not: reason } }],
        },
        data: { paymentNote: reason },
      }),
    ]);
    return job.count === 1;
  }

  /** The step goes on (the escrow accepts it again, or it was mined): the waiting note goes. */
  async clearWaiting(txId: string, jobId: string, status: NotedStatus = 'PENDING'): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.chainTx.updateMany({
        where: { id: txId, status },
        data: { error: null },
      }),
      this.prisma.job.updateMany({
        where: { id: jobId, payment: 'SETTLING' },
        data: { paymentNote: null },
      }),
    ]);
  }

  /**
   * A sent transaction that reverted (at depth) because the escrow refused it for now: back to
   * PENDING, to be signed again with a new nonce. The reverted one used its nonce and changed
   * nothing else, and batch and slash ids keep a repeat from paying twice.
   */
  unsignReverted(txId: string) {
    return this.prisma.chainTx.updateMany({
      where: { id: txId, status: 'SENT' },
      data: { status: 'PENDING', ...UNSIGNED },
    });
  }

  async markFailed(txId: string, jobId: string, error: string): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.chainTx.updateMany({
        where: { id: txId, status: { in: ['PENDING', 'SENT'] } },
        data: { status: 'FAILED', error },
      }),
      this.prisma.job.updateMany({
        where: { id: jobId, payment: 'SETTLING' },
        data: { payment: 'FAILED', paymentNote: `settlement stopped: ${error}` },
      }),
    ]);
  }

  /**
   * An admin's retry of a settlement that failed: its failed steps go back to PENDING (unsigned;
   * a failed step never took effect, and its batch or slash id keeps a repeat from paying twice)
   * and the job to SETTLING, so the watcher takes it up again. False when the job's payment is
   * not FAILED.
   */
  async retryFailedSettlement(jobId: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.job.updateMany({
        where: { id: jobId, payment: 'FAILED' },
        data: { payment: 'SETTLING', paymentNote: 'settlement retried by an admin' },
      });
      if (count === 0) return false;
      await tx.chainTx.updateMany({
        where: { jobId, status: 'FAILED' },
        data: { status: 'PENDING', ...UNSIGNED, error: null },
      });
      return true;
    });
  }

  /** Every transaction is confirmed: the ledger records what moved, the job is settled. */
  async finishSettlement(jobId: string, entries: LedgerWrite[]): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      await tx.ledgerEntry.createMany({
        data: entries.map((e) => ({
          jobId,
          kind: e.kind,
          address: e.address,
          nodeId: e.nodeId ?? null,
          amountWei: e.amountWei.toString(),
          chainTxId: e.chainTxId,
        })),
        skipDuplicates: true,
      });
      const { count } = await tx.job.updateMany({
        where: { id: jobId, payment: 'SETTLING' },
        data: { payment: 'SETTLED' },
      });
      return count === 1;
    });
  }

  // ------------------------------------------------------------------ reads for the API

  findJobForRequester(jobId: string, apiKeyId: string) {
    return this.prisma.job.findFirst({
      where: { id: jobId, apiKeyId },
      select: {
        id: true,
        status: true,
        payment: true,
        priceWei: true,
        budgetWei: true,
        depositWei: true,
        fundedWei: true,
        requesterAddress: true,
        paymentNote: true,
        settings: true,
        sceneInfo: true,
        shards: { where: { kind: 'WORK' }, select: SHARD_GEOMETRY_SELECT },
      },
    });
  }

  /** Pixels of the job's verified renders by kind (work tiles, verification checks), paid or not. */
  async verifiedPixelsByKind(jobId: string): Promise<{ work: bigint; checks: bigint }> {
    const rows = await this.prisma.$queryRaw<{ kind: string; pixels: bigint }[]>`
      SELECT s.kind::text AS kind, SUM(s.width * s.height)::bigint AS pixels
      FROM shards s
      WHERE s.job_id = ${jobId}::uuid AND s.verified_at IS NOT NULL AND s.result_id IS NOT NULL
      GROUP BY s.kind`;
    const of = (kind: string) => BigInt(rows.find((r) => r.kind === kind)?.pixels ?? 0);
    return { work: of('WORK'), checks: of('CHECK') };
  }

  ledgerOf(jobId: string) {
    return this.prisma.ledgerEntry.findMany({
      where: { jobId },
      orderBy: [{ createdAt: 'asc' }, { kind: 'asc' }, { address: 'asc' }],
      include: { chainTx: { select: { txHash: true, blockNumber: true } } },
    });
  }

  /** What moved on chain (settled, slashed, refunded) for a requester's jobs, or all (admin). */
  payoutsOf(scope: { apiKeyId?: string }, take: number) {
    return this.prisma.ledgerEntry.findMany({
      where: {
        kind: { in: ['SETTLED', 'SLASHED', 'REFUNDED'] },
        ...(scope.apiKeyId ? { job: { apiKeyId: scope.apiKeyId } } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { kind: 'asc' }],
      take,
      include: {
        chainTx: {
          select: { txHash: true, replacedHashes: true, blockNumber: true, status: true },
        },
        node: { select: { name: true } },
      },
    });
  }

  async earningsOf(address: string) {
    const rows = await this.prisma.ledgerEntry.groupBy({
      by: ['kind'],
      where: { address },
      _sum: { amountWei: true },
    });
    const sum = (kind: string) => big(rows.find((r) => r.kind === kind)?._sum.amountWei);
    const recent = await this.prisma.ledgerEntry.findMany({
      where: { address, kind: { in: ['ACCRUED', 'SETTLED', 'SLASHED'] } },
      orderBy: { createdAt: 'desc' },
      take: 50,
      include: { chainTx: { select: { txHash: true } } },
    });
    return {
      accrued: sum('ACCRUED'),
      settled: sum('SETTLED'),
      slashed: sum('SLASHED'),
      recent,
    };
  }
}
