import { Injectable } from '@nestjs/common';
import { completeJob } from '../jobs/job-completion';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class ReconcilerRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Jobs still waiting for planning since before `before`. */
  async jobsAwaitingPlanning(before: Date): Promise<string[]> {
    const jobs = await this.prisma.job.findMany({
      where: { status: 'PLANNING', createdAt: { lt: before } },
      select: { id: true },
      take: 500,
    });
    return jobs.map((j) => j.id);
  }

  /**
   * Check renders accepted before `before` and never evaluated: their queue entry was lost (with
   * Redis, or with a coordinator killed before its batch was queued). A frame's verification does
   * not evaluate checks, it waits for them, and so does the job for a ringer.
   */
  async checksAwaitingEvaluation(before: Date): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT s.id::text AS id FROM shards s JOIN results r ON r.id = s.result_id
      WHERE s.kind = 'CHECK' AND s.verified_at IS NULL AND s.status = 'DONE'
        AND r.created_at < ${before}
      LIMIT 500`;
    return rows.map((r) => r.id);
  }

  /**
   * Rendering jobs whose every frame is stitched: only checks hold them. A ringer whose lease
   * lapsed is withdrawn here when nothing else would complete its job (its only eligible nodes
   * gone); the rest completes the job once nothing is open. Returns the jobs completed.
   */
  async completeFinishedJobs(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT j.id::text AS id FROM jobs j
      WHERE j.status = 'RENDERING'
        AND EXISTS (SELECT 1 FROM frames f WHERE f.job_id = j.id)
        AND NOT EXISTS (SELECT 1 FROM frames f WHERE f.job_id = j.id AND f.status <> 'DONE')
      LIMIT 500`;
    const completed: string[] = [];
    for (const { id } of rows) {
      if (await completeJob(this.prisma, id)) completed.push(id);
    }
    return completed;
  }

  /** Frames whose every tile has a result but that were never stitched. */
  async framesAwaitingVerification(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT f.id::text AS id FROM frames f
      WHERE f.status <> 'DONE'
        AND NOT EXISTS (SELECT 1 FROM shards s
                        WHERE s.frame_id = f.id AND s.kind = 'WORK' AND s.status <> 'DONE')
        AND EXISTS (SELECT 1 FROM shards s WHERE s.frame_id = f.id)
      LIMIT 500`;
    return rows.map((r) => r.id);
  }
}
