import { Injectable } from '@nestjs/common';
import type { Plan } from '../planning/planner';
import type { PaymentTerms } from '../pricing/pricing';
import { Prisma, PrismaService } from '../prisma/prisma.service';
import { blenderVersionNumber } from '@tessera/protocol';
import type { JobSettings } from './dto/create-job.dto';

export interface JobSummaryRow {
  id: string;
  status: string;
  error: string | null;
  settings: unknown;
  sceneInfo: unknown;
  createdAt: Date;
  plannedAt: Date | null;
  completedAt: Date | null;
  owner: string;
  framesTotal: number;
  framesDone: number;
  tilesTotal: number;
  tilesDone: number;
  tilesVerified: number;
  renderMs: bigint;
  payment: string;
  priceWei: string | null;
  /** pixels of the job's verified renders, work and checks: what it is charged for */
  verifiedPixels: bigint;
}

@Injectable()
export class JobsRepository {
  constructor(private readonly prisma: PrismaService) {}

  findScene(sha256: string) {
    return this.prisma.scene.findUnique({ where: { sha256 } });
  }

  upsertScene(sha256: string, size: number, storageKey: string) {
    return this.prisma.scene.upsert({
      where: { sha256 },
      create: { sha256, size: BigInt(size), storageKey },
      update: {},
    });
  }

  /** Removes a scene no job refers to; returns its storage key when it was removed. */
  async deleteSceneIfUnused(sha256: string): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ storage_key: string }[]>`
      DELETE FROM scenes s WHERE s.sha256 = ${sha256}
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.scene_sha256 = s.sha256)
      RETURNING s.storage_key`;
    return rows[0]?.storage_key ?? null;
  }

  createJob(apiKeyId: string, sceneSha256: string, settings: JobSettings) {
    return this.prisma.job.create({
      data: {
        apiKeyId,
        sceneSha256,
        settings: settings as unknown as Prisma.InputJsonValue,
        verification: settings.verification,
        budgetWei: settings.budgetWei,
        seed: 0,
        // columns, so that the lease grant can match nodes in SQL (settings keeps the request)
        minVramMb: settings.minVramMb ?? null,
        minBlender: settings.minBlenderVersion
          ? blenderVersionNumber(settings.minBlenderVersion)
          : null,
        device: settings.device ?? 'any',
      },
      select: { id: true },
    });
  }

  deleteJob(id: string) {
    return this.prisma.job.delete({ where: { id } });
  }

  findJobForPlanning(id: string) {
    return this.prisma.job.findUnique({
      where: { id },
      select: { id: true, status: true, settings: true, scene: true },
    });
  }

  markFailed(id: string, error: string) {
    return this.prisma.job.updateMany({
      where: { id, status: 'PLANNING' },
      data: { status: 'FAILED', error },
    });
  }

  /** Persists the plan and opens the job for leasing, once: a retried planning run is a no-op. */
  async savePlan(
    id: string,
    sceneInfo: object,
    seed: number,
    plan: Plan,
    terms: Pick<PaymentTerms, 'payment' | 'priceWei' | 'depositWei'>,
  ): Promise<boolean> {
    return this.prisma.$transaction(
      async (tx) => {
        const { count } = await tx.job.updateMany({
          where: { id, status: 'PLANNING' },
          data: {
            status: 'RENDERING',
            sceneInfo: sceneInfo as Prisma.InputJsonValue,
            seed,
            plannedAt: new Date(),
            payment: terms.payment,
            priceWei: terms.priceWei.toString(),
            depositWei: terms.depositWei.toString(),
            paymentNote:
              terms.payment === 'AWAITING_FUNDS'
                ? `waiting for a deposit of ${terms.depositWei} wei in the escrow`
                : null,
          },
        });
        if (count === 0) return false;
        await tx.frame.createMany({ data: plan.frames.map((number) => ({ jobId: id, number })) });
        const frames = await tx.frame.findMany({
          where: { jobId: id },
          select: { id: true, number: true },
        });
        const shards: Prisma.ShardCreateManyInput[] = [];
        for (const frame of frames) {
          for (const t of plan.tiles) {
            shards.push({
              jobId: id,
              frameId: frame.id,
              frameNumber: frame.number,
              tileX: t.tileX,
              tileY: t.tileY,
              ...t.region,
              marginLeft: t.margins.left,
              marginTop: t.margins.top,
              marginRight: t.margins.right,
              marginBottom: t.margins.bottom,
            });
          }
        }
        await tx.shard.createMany({ data: shards });
        return true;
        // Large jobs insert tens of thousands of shards: Prisma's 5 s default would abort them.
      },
      { timeout: 300_000, maxWait: 10_000 },
    );
  }

  findJobForRequester(id: string, apiKeyId: string) {
    return this.prisma.job.findFirst({
      where: { id, apiKeyId },
      include: {
        frames: {
          orderBy: { number: 'asc' },
          select: { number: true, status: true, completedAt: true },
        },
        shards: {
          where: { kind: 'WORK' },
          orderBy: [{ frameNumber: 'asc' }, { tileY: 'asc' }, { tileX: 'asc' }],
          select: {
            frameNumber: true,
            tileX: true,
            tileY: true,
            x: true,
            y: true,
            width: true,
            height: true,
            status: true,
            nodeId: true,
            attempts: true,
            verifiedAt: true,
            result: { select: { renderMs: true, createdAt: true } },
          },
        },
        // checks not yet decided: the job completes once there are none
        _count: { select: { shards: { where: { kind: 'CHECK', verifiedAt: null } } } },
      },
    });
  }

  /**
   * One page of jobs with their progress counts; `apiKeyId` null lists every job (admin). With
   * `id`, that job's row alone: a job's own view carries the same totals.
   */
  listJobs(
    apiKeyId: string | null,
    filter: { id?: string; status?: string; before?: Date; limit: number },
  ) {
    return this.prisma.$queryRaw<JobSummaryRow[]>`
      SELECT j.id::text AS id, j.status::text AS status, j.error, j.settings, j.scene_info AS "sceneInfo",
             j.created_at AS "createdAt", j.planned_at AS "plannedAt", j.completed_at AS "completedAt",
             k.name AS owner,
             fr.total AS "framesTotal", fr.done AS "framesDone",
             sh.total AS "tilesTotal", sh.done AS "tilesDone", sh.verified AS "tilesVerified",
             rs.render_ms AS "renderMs", rs.verified_pixels AS "verifiedPixels",
             j.payment::text AS payment, j.price_wei::text AS "priceWei"
      FROM jobs j
      JOIN api_keys k ON k.id = j.api_key_id
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS total, count(*) FILTER (WHERE f.status = 'DONE')::int AS done
        FROM frames f WHERE f.job_id = j.id) fr
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS total, count(*) FILTER (WHERE s.status = 'DONE')::int AS done,
               count(*) FILTER (WHERE s.verified_at IS NOT NULL)::int AS verified
        FROM shards s WHERE s.job_id = j.id AND s.kind = 'WORK') sh
      CROSS JOIN LATERAL (
        -- node time spent on the job so far, checks and redone work included
        SELECT coalesce(sum(r.render_ms), 0)::bigint AS render_ms,
               coalesce(sum(s.width * s.height) FILTER (
                 WHERE s.result_id = r.id AND s.verified_at IS NOT NULL), 0)::bigint AS verified_pixels
        FROM results r JOIN shards s ON s.id = r.shard_id WHERE s.job_id = j.id) rs
      WHERE (${apiKeyId}::uuid IS NULL OR j.api_key_id = ${apiKeyId}::uuid)
        AND (${filter.id ?? null}::uuid IS NULL OR j.id = ${filter.id ?? null}::uuid)
        AND (${filter.status ?? null}::text IS NULL OR j.status::text = ${filter.status ?? null}::text)
        AND (${filter.before ?? null}::timestamptz IS NULL OR j.created_at < ${filter.before ?? null}::timestamptz)
      ORDER BY j.created_at DESC
      LIMIT ${filter.limit}`;
  }

  /**
   * Cancels an unfinished job: no shard of it is granted again (grants take RENDERING jobs only),
   * and its active leases end now, so their agents get 410 on the next heartbeat or completion.
   * Returns the ended leases, or null when the job is not the requester's or already finished.
   */
  async cancelJob(id: string, apiKeyId: string | null) {
    return this.endJob(id, { status: 'CANCELLED' }, apiKeyId);
  }

  /**
   * Ends a job before its frames are done, with its active leases: cancelled by its requester
   * (while planning or rendering), or failed while rendering. The leases ended; null when the job
   * was not in a state to end (or, with `apiKeyId`, not the requester's).
   */
  async endJob(
    id: string,
    end: { status: 'CANCELLED' } | { status: 'FAILED'; error: string },
    apiKeyId: string | null = null,
  ) {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.job.updateMany({
        where: {
          id,
          status: end.status === 'CANCELLED' ? { in: ['PLANNING', 'RENDERING'] } : 'RENDERING',
          ...(apiKeyId ? { apiKeyId } : {}),
        },
        data: {
          status: end.status,
          completedAt: new Date(),
          ...(end.status === 'FAILED' ? { error: end.error } : {}),
        },
      });
      if (count === 0) return null;
      // A grant that read the job as RENDERING before this commits would otherwise lease a
      // shard after the statement below looked: it locks its shard (SKIP LOCKED) before
      // granting, so once every free or leased shard is locked here, grants in flight have
      // committed (and are ended below) and later ones find nothing of this job to take.
      await tx.$executeRaw`
        SELECT 1 FROM shards WHERE job_id = ${id}::uuid AND status IN ('PENDING', 'LEASED')
        ORDER BY id FOR UPDATE`;
      return this.endLeasesOfJob(id, endReason(end.status), tx);
    });
  }

  /** Ends every active lease of an ended job and frees its shards; the leases ended. */
  endLeasesOfJob(id: string, reason: string, tx: Prisma.TransactionClient = this.prisma) {
    return tx.$queryRaw<{ leaseId: string; shardId: string }[]>`
      WITH held AS (
        -- the lease ids as they were: RETURNING of the update below sees them already cleared
        SELECT id, lease_id FROM shards
        WHERE job_id = ${id}::uuid AND status = 'LEASED'
        FOR UPDATE
      ), s AS (
        UPDATE shards SET status = 'PENDING', lease_id = NULL, lease_expires_at = NULL
        FROM held WHERE shards.id = held.id
        RETURNING held.id, held.lease_id
      )
      UPDATE leases l SET status = 'RELEASED', ended_at = clock_timestamp(), fail_reason = ${reason}
      FROM s WHERE l.id = s.lease_id AND l.status = 'ACTIVE'
      RETURNING l.id::text AS "leaseId", s.id::text AS "shardId"`;
  }

  jobStatus(id: string, apiKeyId: string | null) {
    return this.prisma.job.findFirst({
      where: { id, ...(apiKeyId ? { apiKeyId } : {}) },
      select: { status: true },
    });
  }

  findFrameForRequester(jobId: string, number: number, apiKeyId: string) {
    return this.prisma.frame.findFirst({
      where: { jobId, number, job: { apiKeyId } },
      select: { status: true, imageKey: true },
    });
  }
}

/** Why the leases of an ended job ended, as their history and the dashboard show it. */
export function endReason(status: 'CANCELLED' | 'FAILED'): string {
  return status === 'CANCELLED' ? 'job cancelled' : 'job failed';
}
