import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

export interface GridShardRow {
  id: string;
  frame: number;
  tileX: number;
  tileY: number;
  status: string;
  verified: boolean;
  rejected: boolean;
  nodeId: string | null;
  attempts: number;
}

/** `apiKeyId` null means an admin: every job is in scope. */
type Scope = string | null;

/** Read models of the dashboard: one query per view, shaped for the browser. */
@Injectable()
export class DashboardRepository {
  constructor(private readonly prisma: PrismaService) {}

  findJob(id: string, scope: Scope) {
    return this.prisma.job.findFirst({
      where: { id, ...(scope ? { apiKeyId: scope } : {}) },
      select: {
        id: true,
        status: true,
        error: true,
        settings: true,
        sceneInfo: true,
        verification: true,
        createdAt: true,
        plannedAt: true,
        completedAt: true,
        apiKey: { select: { name: true } },
        frames: {
          orderBy: { number: 'asc' },
          select: { number: true, status: true, completedAt: true, thumbKey: true },
        },
      },
    });
  }

  /** Every work tile of a job with whether an earlier result of it was thrown away. */
  gridShards(jobId: string) {
    return this.prisma.$queryRaw<GridShardRow[]>`
      SELECT s.id::text AS id, s.frame_number AS frame, s.tile_x AS "tileX", s.tile_y AS "tileY",
             s.status::text AS status, s.verified_at IS NOT NULL AS verified,
             EXISTS (SELECT 1 FROM results r WHERE r.shard_id = s.id
                     AND r.id IS DISTINCT FROM s.result_id) AS rejected,
             s.node_id::text AS "nodeId", s.attempts
      FROM shards s
      WHERE s.job_id = ${jobId}::uuid AND s.kind = 'WORK'
      ORDER BY s.frame_number, s.tile_y, s.tile_x`;
  }

  findTile(jobId: string, frame: number, tileX: number, tileY: number) {
    return this.prisma.shard.findFirst({
      where: { jobId, frameNumber: frame, tileX, tileY, kind: 'WORK' },
      select: {
        id: true,
        status: true,
        verifiedAt: true,
        resultId: true,
        x: true,
        y: true,
        width: true,
        height: true,
        attempts: true,
        leases: {
          orderBy: { grantedAt: 'asc' },
          select: {
            id: true,
            status: true,
            grantedAt: true,
            endedAt: true,
            failReason: true,
            node: { select: { id: true, address: true, name: true } },
          },
        },
        results: {
          orderBy: { createdAt: 'asc' },
          select: { id: true, nodeId: true, renderMs: true, createdAt: true, sha256: true },
        },
      },
    });
  }

  /** Verdicts about any of these results (as either side of the comparison). */
  verdictsAbout(jobId: string, resultIds: string[]) {
    if (resultIds.length === 0) return Promise.resolve([]);
    return this.prisma.verdict.findMany({
      where: {
        jobId,
        OR: [{ resultA: { in: resultIds } }, { resultB: { in: resultIds } }],
      },
      orderBy: { createdAt: 'asc' },
    });
  }

  /** Every verdict of a job that is not a passed comparison (the timeline's notable ones). */
  notableVerdicts(jobId: string, limit: number) {
    return this.prisma.verdict.findMany({
      where: { jobId, NOT: { outcome: 'PASS', kind: { in: ['OVERLAP', 'CROP', 'RINGER'] } } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
  }

  /** Per frame: work tiles, how many are verified, the first lease and the latest verification. */
  frameMilestones(jobId: string) {
    return this.prisma.$queryRaw<
      {
        frame: number;
        tiles: number;
        verified: number;
        firstLeasedAt: Date | null;
        lastVerifiedAt: Date | null;
      }[]
    >`
      SELECT s.frame_number AS frame, COUNT(*)::int AS tiles,
             (COUNT(*) FILTER (WHERE s.status = 'DONE' AND s.verified_at IS NOT NULL))::int
               AS verified,
             MIN(l.first) AS "firstLeasedAt",
             MAX(s.verified_at) FILTER (WHERE s.status = 'DONE') AS "lastVerifiedAt"
      FROM shards s
      LEFT JOIN LATERAL (SELECT MIN(granted_at) AS first FROM leases WHERE shard_id = s.id) l
        ON true
      WHERE s.job_id = ${jobId}::uuid AND s.kind = 'WORK'
      GROUP BY s.frame_number
      ORDER BY s.frame_number`;
  }

  /** What moved on chain for a job (settlements, slashes, refunds), with the transaction hash. */
  payoutsOfJob(jobId: string, limit: number) {
    return this.prisma.ledgerEntry.findMany({
      where: { jobId, kind: { in: ['SETTLED', 'SLASHED', 'REFUNDED'] } },
      orderBy: [{ createdAt: 'asc' }, { kind: 'asc' }, { address: 'asc' }],
      take: limit,
      select: {
        kind: true,
        nodeId: true,
        amountWei: true,
        createdAt: true,
        chainTx: { select: { txHash: true } },
      },
    });
  }

  verdictCounts(jobId: string) {
    return this.prisma.verdict.groupBy({
      by: ['kind', 'outcome'],
      where: { jobId },
      _count: { _all: true },
    });
  }

  findFrame(jobId: string, frame: number, scope: Scope) {
    return this.prisma.frame.findFirst({
      where: { jobId, number: frame, job: scope ? { apiKeyId: scope } : {} },
      select: { status: true, imageKey: true, thumbKey: true },
    });
  }

  finishedFrames(jobId: string) {
    return this.prisma.frame.findMany({
      where: { jobId, status: 'DONE', imageKey: { not: null } },
      orderBy: { number: 'asc' },
      select: { number: true, imageKey: true },
    });
  }

  /** The farm's nodes with what they hold now, their recent output and their blocklists. */
  async nodes(since: Date) {
    const nodes = await this.prisma.node.findMany({
      orderBy: { lastSeenAt: 'desc' },
      select: {
        id: true,
        address: true,
        name: true,
        capabilities: true,
        trust: true,
        createdAt: true,
        lastSeenAt: true,
        leases: {
          where: { status: 'ACTIVE' },
          select: {
            id: true,
            grantedAt: true,
            shard: {
              select: { jobId: true, frameNumber: true, tileX: true, tileY: true, kind: true },
            },
          },
        },
        blocks: { select: { jobId: true, reason: true, createdAt: true } },
      },
    });
    const recent = await this.prisma.result.groupBy({
      by: ['nodeId'],
      where: { createdAt: { gte: since } },
      _count: { _all: true },
      _sum: { renderMs: true },
    });
    const totals = await this.prisma.result.groupBy({ by: ['nodeId'], _count: { _all: true } });
    // what each node was paid through the escrow (confirmed settlements)
    const earnings = await this.prisma.ledgerEntry.groupBy({
      by: ['nodeId'],
      where: { kind: 'SETTLED', nodeId: { not: null } },
      _sum: { amountWei: true },
    });
    return { nodes, recent, totals, earnings };
  }
}
