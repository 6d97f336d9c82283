import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

/** What a lease needs to know about its job; fixed once the job is planned, so it is cached. */
export interface JobFacts {
  jobId: string;
  seed: number;
  samples: number | null;
  width: number;
  height: number;
  sceneSha256: string;
  sceneSize: number;
  sceneKey: string;
}

const CACHE_LIMIT = 1000;

@Injectable()
export class JobFactsRepository {
  private readonly cache = new Map<string, JobFacts>();

  constructor(private readonly prisma: PrismaService) {}

  async get(jobId: string): Promise<JobFacts> {
    const hit = this.cache.get(jobId);
    if (hit) return hit;
    const job = await this.prisma.job.findUniqueOrThrow({
      where: { id: jobId },
      select: { seed: true, settings: true, sceneInfo: true, scene: true },
    });
    const settings = job.settings as { samples?: number | null };
    const info = job.sceneInfo as { resolution: { width: number; height: number } };
    const facts: JobFacts = {
      jobId,
      seed: job.seed,
      samples: settings.samples ?? null,
      width: info.resolution.width,
      height: info.resolution.height,
      sceneSha256: job.scene.sha256,
      sceneSize: Number(job.scene.size),
      sceneKey: job.scene.storageKey,
    };
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(jobId, facts);
    return facts;
  }
}
