import { Injectable } from '@nestjs/common';
import { SHARD_GEOMETRY_SELECT } from '../planning/tile-geometry';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class AssemblyRepository {
  constructor(private readonly prisma: PrismaService) {}

  findFrameWithTiles(frameId: string) {
    return this.prisma.frame.findUnique({
      where: { id: frameId },
      select: {
        id: true,
        jobId: true,
        number: true,
        status: true,
        job: { select: { sceneInfo: true } },
        shards: {
          where: { kind: 'WORK' },
          select: {
            status: true,
            verifiedAt: true,
            ...SHARD_GEOMETRY_SELECT,
            result: { select: { id: true, nodeId: true, storageKey: true, sha256: true } },
          },
        },
      },
    });
  }

  /** Marks the frame done and, when it was the last one, the job completed (then true). */
  async saveFrame(
    frameId: string,
    jobId: string,
    imageKey: string,
    thumbKey: string,
  ): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      // The job row is locked first: two workers saving a job's last two frames at once would
      // each count the other's frame as open (not yet committed) and neither would complete it.
      // Locked, the second waits, and its count below starts after the first has committed.
      await tx.$queryRaw`SELECT 1 FROM jobs WHERE id = ${jobId}::uuid FOR UPDATE`;
      await tx.frame.update({
        where: { id: frameId },
        data: { status: 'DONE', imageKey, thumbKey, completedAt: new Date() },
      });
      const open = await tx.frame.count({ where: { jobId, status: { not: 'DONE' } } });
      if (open > 0) return false;
      const { count } = await tx.job.updateMany({
        where: { id: jobId, status: 'RENDERING' },
        data: { status: 'COMPLETED', completedAt: new Date() },
      });
      return count === 1;
    });
  }
}
