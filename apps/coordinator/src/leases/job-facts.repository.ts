import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';
import { sql } from '../prisma/sql';

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

/**
 * Read once per job and replica. The lookup itself is cached, so the many agents that lease a new
 * job's first tiles at once share one query; straight to pg (PrismaService.query): through
 * Prisma's query interpreter it took 2.5 ms of CPU.
 */
@Injectable()
export class JobFactsRepository {
  private readonly cache = new Map<string, Promise<JobFacts>>();

  constructor(private readonly prisma: PrismaService) {}

  get(jobId: string): Promise<JobFacts> {
    let facts = this.cache.get(jobId);
    if (!facts) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      facts = this.read(jobId);
      this.cache.set(jobId, facts);
      facts.catch(() => this.cache.delete(jobId));
    }
    return facts;
  }

  private async read(jobId: string): Promise<JobFacts> {
    const rows = await this.prisma.query<{
      seed: number;
      samples: number | null;
      resolution: { width: number; height: number };
      sceneSha256: string;
      sceneSize: string;
      sceneKey: string;
    }>(sql`
      SELECT j.seed, j.settings -> 'samples' AS samples, j.scene_info -> 'resolution' AS resolution,
             sc.sha256 AS "sceneSha256", sc.size::text AS "sceneSize", sc.storage_key AS "sceneKey"
      FROM jobs j JOIN scenes sc ON sc.sha256 = j.scene_sha256
      WHERE j.id = ${jobId}::uuid`);
    const row = rows[0];
    if (!row) throw new Error(`job ${jobId} not found`);
    return {
      jobId,
      seed: row.seed,
      samples: row.samples ?? null,
      width: row.resolution.width,
      height: row.resolution.height,
      sceneSha256: row.sceneSha256,
      sceneSize: Number(row.sceneSize),
      sceneKey: row.sceneKey,
    };
  }
}
