import { Injectable } from '@nestjs/common';
import type { Plan } from '../planning/planner';
import { Prisma, PrismaService } from '../prisma/prisma.service';
import { blenderVersionNumber } from '@tessera/protocol';
import type { JobSettings } from './dto/create-job.dto';

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
  async savePlan(id: string, sceneInfo: object, seed: number, plan: Plan): Promise<boolean> {
    return this.prisma.$transaction(
      async (tx) => {
        const { count } = await tx.job.updateMany({
          where: { id, status: 'PLANNING' },
          data: {
            status: 'RENDERING',
            sceneInfo: sceneInfo as Prisma.InputJsonValue,
            seed,
            plannedAt: new Date(),
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
      },
    });
  }

  findFrameForRequester(jobId: string, number: number, apiKeyId: string) {
    return this.prisma.frame.findFirst({
      where: { jobId, number, job: { apiKeyId } },
      select: { status: true, imageKey: true },
    });
  }
}
