import { Injectable } from '@nestjs/common';
import type { PixelRegion } from '@tessera/protocol';
import { completeJob, withdrawRingers } from '../jobs/job-completion';
import { regionOf } from '../planning/tile-geometry';
import { Prisma, PrismaService } from '../prisma/prisma.service';
import { literal, sql } from '../prisma/sql';

export type CheckPurpose = 'CROP' | 'RINGER' | 'ARBITRATION';
export type VerdictKind = 'OVERLAP' | 'CROP' | 'RINGER' | 'ARBITRATION' | 'FRAUD';
export type VerdictOutcome = 'PASS' | 'FAIL' | 'UNRESOLVED';

/** A tile's accepted result, as verification and assembly read it. */
export interface AcceptedResult {
  id: string;
  nodeId: string;
  storageKey: string;
  sha256: string;
}

export interface RenderedTile {
  shardId: string;
  tileX: number;
  tileY: number;
  region: PixelRegion;
  verifiedAt: Date | null;
  result: AcceptedResult | null;
}

/** The accepted result's columns in a statement that joins `results r ON r.id = s.result_id`. */
export const RESULT_COLUMNS = literal(
  `r.id::text AS "resultId", r.node_id::text AS "nodeId", r.storage_key AS "storageKey", r.sha256`,
);

/** RESULT_COLUMNS as a row holds them: all null for a shard without a result. */
export interface ResultColumns {
  resultId: string | null;
  nodeId: string | null;
  storageKey: string | null;
  sha256: string | null;
}

export function acceptedResult(row: ResultColumns): AcceptedResult | null {
  const { resultId, nodeId, storageKey, sha256 } = row;
  return resultId
    ? { id: resultId, nodeId: nodeId!, storageKey: storageKey!, sha256: sha256! }
    : null;
}

export interface NewCheck {
  jobId: string;
  frameId: string;
  frameNumber: number;
  tileX: number;
  tileY: number;
  region: PixelRegion;
  purpose: CheckPurpose;
  checkedResultId: string;
  disputedResultId?: string;
  excludeNodeIds: string[];
}

export interface NewVerdict {
  jobId: string;
  frameNumber: number;
  kind: VerdictKind;
  outcome: VerdictOutcome;
  resultA?: string;
  resultB?: string;
  nodeA?: string;
  nodeB?: string;
  evidence: object;
}

export interface FrameState {
  open: boolean;
  verified: boolean;
  assembled: boolean;
  jobId: string;
  frameNumber: number;
  /** the job's verification strength */
  verification: string;
}

export interface ResultFacts {
  status: string;
  kind: 'WORK' | 'CHECK';
  jobId: string;
  frameId: string;
  verification: string;
  /** the reputation state of the result's node (null until it has one) */
  trust: unknown;
  resultId: string | null;
  nodeId: string | null;
  blocked: boolean;
  /** the node's score at its first result in this job; null before that result is counted */
  firstScore: number | null;
}

/** A row of frameTiles(): the shard and, joined, its accepted result's columns. */
interface TileRow extends PixelRegion, ResultColumns {
  shardId: string;
  tileX: number;
  tileY: number;
  verifiedAt: Date | null;
  done: boolean;
}

const resultSelect = {
  select: { id: true, nodeId: true, storageKey: true, sha256: true },
} as const;

/**
 * All Postgres access of the verification pipeline, named for what it means. The reads made for
 * every batch of completions and every frame go straight to pg (PrismaService.query): through
 * Prisma's query interpreter, a frame's 64 tiles with their results took 5 ms of CPU to read.
 */
@Injectable()
export class VerificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  findShard(shardId: string) {
    return this.prisma.shard.findUnique({
      where: { id: shardId },
      include: {
        result: resultSelect,
        job: { select: { id: true, verification: true } },
      },
    });
  }

  findResult(resultId: string) {
    return this.prisma.result.findUnique({
      where: { id: resultId },
      include: { shard: true },
    });
  }

  /**
   * Where frames stand, in one indexed query for a batch of them: a tile still without its
   * result (or no tiles at all), every tile verified already, the frame stitched. Asked after
   * every batch of completions. Frames that do not exist are missing from the map.
   */
  async frameStates(frameIds: string[]): Promise<Map<string, FrameState>> {
    const rows = await this.prisma.query<FrameState & { frameId: string }>(sql`
      SELECT f.id::text AS "frameId",
             count(s.id) = 0 OR coalesce(bool_or(s.status <> 'DONE' OR s.result_id IS NULL), false) AS open,
             count(s.id) > 0 AND coalesce(bool_and(s.verified_at IS NOT NULL), false) AS verified,
             f.status = 'DONE' AS assembled,
             f.job_id::text AS "jobId", f.number AS "frameNumber", j.verification::text AS verification
      FROM frames f JOIN jobs j ON j.id = f.job_id
      LEFT JOIN shards s ON s.frame_id = f.id AND s.kind = 'WORK'
      WHERE f.id = ANY (${frameIds}::uuid[])
      GROUP BY f.id, j.id`);
    return new Map(rows.map(({ frameId, ...state }) => [frameId, state]));
  }

  /**
   * What the verification of completed leases needs first, in one query for a batch of them:
   * each shard's state, its job's verification strength, its result and whether that node is
   * convicted on the job, and the node's reputation. The full shard is read only when a check
   * is issued. Shards that do not exist are missing from the map.
   */
  async resultFacts(shardIds: string[]): Promise<Map<string, ResultFacts>> {
    const rows = await this.prisma.query<ResultFacts & { shardId: string }>(sql`
      SELECT s.id::text AS "shardId", s.status::text AS status, s.kind::text AS kind,
             s.job_id::text AS "jobId", s.frame_id::text AS "frameId",
             j.verification::text AS verification, n.trust,
             r.id::text AS "resultId", r.node_id::text AS "nodeId",
             EXISTS (SELECT 1 FROM job_blocklist b
                     WHERE b.job_id = s.job_id AND b.node_id = r.node_id) AS blocked,
             t.score AS "firstScore"
      FROM shards s JOIN jobs j ON j.id = s.job_id
      LEFT JOIN results r ON r.id = s.result_id
      LEFT JOIN nodes n ON n.id = r.node_id
      LEFT JOIN job_node_trust t ON t.job_id = s.job_id AND t.node_id = r.node_id
      WHERE s.id = ANY (${shardIds}::uuid[])`);
    return new Map(rows.map(({ shardId, ...facts }) => [shardId, facts]));
  }

  /**
   * Records the node's score at its first result in the job, once; returns the recorded score
   * (the one a concurrent first result wrote, should that have been first).
   */
  async recordFirstScore(jobId: string, nodeId: string, score: number): Promise<number> {
    const rows = await this.prisma.$queryRaw<{ score: number }[]>`
      INSERT INTO job_node_trust (job_id, node_id, score)
      VALUES (${jobId}::uuid, ${nodeId}::uuid, ${score})
      ON CONFLICT (job_id, node_id) DO UPDATE SET score = job_node_trust.score
      RETURNING score`;
    return rows[0].score;
  }

  /** The frame's work tiles in grid order, each with its result once the tile is DONE. */
  async frameTiles(frameId: string): Promise<RenderedTile[]> {
    const rows = await this.prisma.query<TileRow>(sql`
      SELECT s.id::text AS "shardId", s.tile_x AS "tileX", s.tile_y AS "tileY",
             s.x, s.y, s.width, s.height, s.verified_at AS "verifiedAt", s.status = 'DONE' AS done,
             ${RESULT_COLUMNS}
      FROM shards s LEFT JOIN results r ON r.id = s.result_id
      WHERE s.frame_id = ${frameId}::uuid AND s.kind = 'WORK'
      ORDER BY s.tile_y, s.tile_x`);
    return rows.map((s) => ({
      shardId: s.shardId,
      tileX: s.tileX,
      tileY: s.tileY,
      region: regionOf(s),
      verifiedAt: s.verifiedAt,
      result: s.done ? acceptedResult(s) : null,
    }));
  }

  /** Checks of this frame that have not been evaluated yet (queued, leased or awaiting comparison). */
  async openChecks(frameId: string): Promise<number> {
    const rows = await this.prisma.query<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM shards
      WHERE frame_id = ${frameId}::uuid AND kind = 'CHECK' AND verified_at IS NULL`);
    return rows[0].n;
  }

  /** Results whose comparison already passed, so a re-run of the frame does not redo them. */
  async passedPairs(jobId: string, frameNumber: number): Promise<Set<string>> {
    const rows = await this.prisma.query<{ pair: string }>(sql`
      SELECT result_a::text || ':' || result_b::text AS pair FROM verdicts
      WHERE job_id = ${jobId}::uuid AND frame_number = ${frameNumber}::int
        AND kind = 'OVERLAP' AND outcome = 'PASS'`);
    return new Set(rows.map((r) => r.pair));
  }

  /** Results already disputed (an arbitration exists), so they are not disputed twice. */
  async disputed(resultIds: string[]): Promise<Set<string>> {
    const rows = await this.prisma.shard.findMany({
      where: { purpose: 'ARBITRATION', checkedResultId: { in: resultIds } },
      select: { checkedResultId: true, disputedResultId: true },
    });
    return new Set(rows.map((r) => `${r.checkedResultId}:${r.disputedResultId}`));
  }

  /** A verification render, leased like any work but never to the excluded nodes. */
  async createCheck(c: NewCheck): Promise<string | null> {
    try {
      const shard = await this.prisma.shard.create({
        data: {
          jobId: c.jobId,
          frameId: c.frameId,
          frameNumber: c.frameNumber,
          tileX: c.tileX,
          tileY: c.tileY,
          ...c.region,
          marginLeft: 0,
          marginTop: 0,
          marginRight: 0,
          marginBottom: 0,
          kind: 'CHECK',
          purpose: c.purpose,
          checkedResultId: c.checkedResultId,
          disputedResultId: c.disputedResultId,
          exclusions: { create: c.excludeNodeIds.map((nodeId) => ({ nodeId })) },
        },
        select: { id: true },
      });
      return shard.id;
    } catch (e) {
      // a concurrent run created the same check: one is enough
      if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return null;
      throw e;
    }
  }

  markVerified(shardIds: string[]) {
    return this.prisma.shard.updateMany({
      where: { id: { in: shardIds }, verifiedAt: null },
      data: { verifiedAt: new Date() },
    });
  }

  recordVerdict(v: NewVerdict) {
    return this.prisma.verdict.create({
      data: { ...v, evidence: v.evidence as Prisma.InputJsonValue },
      select: { id: true },
    });
  }

  /** A verified tile of the job rendered by someone other than `nodeId`, for a ringer. */
  async verifiedTileNotBy(jobId: string, nodeId: string) {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT s.id::text AS id FROM shards s JOIN results r ON r.id = s.result_id
      WHERE s.job_id = ${jobId}::uuid AND s.kind = 'WORK' AND s.verified_at IS NOT NULL
        AND r.node_id <> ${nodeId}::uuid
      ORDER BY random() LIMIT 1`;
    if (!rows[0]) return null;
    return this.prisma.shard.findUnique({
      where: { id: rows[0].id },
      include: { result: resultSelect },
    });
  }

  nodeProvenance(nodeIds: string[]) {
    return this.prisma.node.findMany({
      where: { id: { in: nodeIds } },
      select: { id: true, capabilities: true, trust: true },
    });
  }

  /** Read-modify-write of a node's reputation state under a row lock. */
  async updateTrust<T>(nodeId: string, update: (state: T | null) => T): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ trust: T | null }[]>`
        SELECT trust FROM nodes WHERE id = ${nodeId}::uuid FOR UPDATE`;
      const next = update(rows[0]?.trust ?? null);
      await tx.node.update({
        where: { id: nodeId },
        data: { trust: next as unknown as Prisma.InputJsonValue },
      });
      return next;
    });
  }

  /**
   * A node convicted of fraud on a job: blocklisted for it, every result of its on the job thrown
   * away (its tiles are rendered again, its crop checks issued again, its ringers closed), and
   * the frames they touched reopened. Returns the frames to verify again.
   */
  async invalidateNodeOnJob(
    jobId: string,
    nodeId: string,
    reason: string,
  ): Promise<{ firstConviction: boolean; frames: string[] }> {
    return this.prisma.$transaction(async (tx) => {
      const blocked = await tx.$executeRaw`
        INSERT INTO job_blocklist (job_id, node_id, reason) VALUES (${jobId}::uuid, ${nodeId}::uuid, ${reason})
        ON CONFLICT DO NOTHING`;
      // Its ringers tested it: closed, unpaid. The rest of its work is rendered again.
      await withdrawRingers(
        tx,
        Prisma.sql`job_id = ${jobId}::uuid
          AND result_id IN (SELECT id FROM results WHERE node_id = ${nodeId}::uuid)`,
      );
      const touched = await tx.$queryRaw<{ frame_id: string }[]>`
        UPDATE shards s SET status = 'PENDING', result_id = NULL, verified_at = NULL,
               lease_id = NULL, lease_expires_at = NULL
        FROM results r
        WHERE s.job_id = ${jobId}::uuid AND r.id = s.result_id AND r.node_id = ${nodeId}::uuid
        RETURNING s.frame_id::text`;
      // Checks of its work are moot now: its results are gone.
      await tx.$executeRaw`
        DELETE FROM shards s USING results r
        WHERE s.job_id = ${jobId}::uuid AND s.kind = 'CHECK' AND s.verified_at IS NULL
          AND r.id IN (s.checked_result_id, s.disputed_result_id) AND r.node_id = ${nodeId}::uuid`;
      const frames = [...new Set(touched.map((t) => t.frame_id))];
      if (frames.length) {
        await tx.frame.updateMany({
          where: { id: { in: frames } },
          data: { status: 'PENDING' },
        });
        await tx.job.updateMany({
          where: { id: jobId, status: 'COMPLETED' },
          data: { status: 'RENDERING', completedAt: null },
        });
      }
      return { firstConviction: blocked === 1, frames };
    });
  }

  /**
   * Both results of an unresolvable dispute are redone by other nodes, without blame. A frame
   * stitched already (a ringer disputed one of its tiles) is stitched again once they are in.
   */
  async discardResults(resultIds: string[]): Promise<void> {
    await this.prisma.$executeRaw`
      WITH s AS (
        UPDATE shards SET status = 'PENDING', result_id = NULL, verified_at = NULL,
               lease_id = NULL, lease_expires_at = NULL
        WHERE result_id = ANY (${resultIds}::uuid[])
        RETURNING frame_id, kind
      )
      UPDATE frames SET status = 'PENDING'
      WHERE id IN (SELECT frame_id FROM s WHERE kind = 'WORK') AND status = 'DONE'`;
  }

  /** Completes the job when nothing of it is open any more (a check was resolved); true then. */
  completeIfFinished(jobId: string): Promise<boolean> {
    return completeJob(this.prisma, jobId);
  }

  frameOfShard(shardId: string) {
    return this.prisma.shard.findUnique({ where: { id: shardId }, select: { frameId: true } });
  }

  async jobOwnedBy(jobId: string, apiKeyId: string): Promise<boolean> {
    return (await this.prisma.job.count({ where: { id: jobId, apiKeyId } })) === 1;
  }

  listVerdicts(jobId: string) {
    return this.prisma.verdict.findMany({ where: { jobId }, orderBy: { createdAt: 'asc' } });
  }
}
