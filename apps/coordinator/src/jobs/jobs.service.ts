import { InjectQueue } from '@nestjs/bullmq';
import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnModuleDestroy,
  OnModuleInit,
  UnprocessableEntityException,
} from '@nestjs/common';
import { BlendFileError, validateBlendFile } from '@tessera/blender';
import { Queue, QueueEvents } from 'bullmq';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Requester } from '../auth/guards';
import { APP_CONFIG, AppConfig } from '../config/config';
import { redisConnection } from '../dispatch/redis';
import { EventsService } from '../events/events.service';
import { planningJobId, PlanningPayload, QueueName } from '../queues/queues';
import { BLOB_STORAGE, BlobNotFoundError, BlobStorage } from '../storage/blob-storage';
import { CreateJobDto, toJobSettings } from './dto/create-job.dto';
import { ListJobsDto } from './dto/list-jobs.dto';
import { toJobSummary, toJobView } from './job-view';
import { endReason, JobsRepository } from './jobs.repository';
import { sha256File } from './sha256-file';

/** Longer than any lease grant statement takes. */
const CANCEL_RECHECK_MS = 2000;

export interface UploadedScene {
  path: string;
  size: number;
}

@Injectable()
export class JobsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobsService.name);
  private planningEvents!: QueueEvents;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    @InjectQueue(QueueName.Planning) private readonly planning: Queue<PlanningPayload>,
    private readonly repo: JobsRepository,
    private readonly events: EventsService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.planningEvents = new QueueEvents(QueueName.Planning, {
      connection: redisConnection(this.config.REDIS_URL),
      prefix: this.config.QUEUE_PREFIX,
    });
    await this.planningEvents.waitUntilReady();
  }

  async onModuleDestroy(): Promise<void> {
    await this.planningEvents?.close();
  }

  /**
   * Stores the scene (once per content hash), creates the job and waits for planning, so that a
   * scene Blender cannot render is refused with a clear error and leaves nothing behind.
   */
  async submit(requester: Requester, upload: UploadedScene | undefined, dto: CreateJobDto) {
    if (!upload) throw new BadRequestException('a .blend file is required in the "scene" field');
    try {
      return await this.submitScene(requester, upload, dto);
    } finally {
      await rm(upload.path, { force: true });
    }
  }

  private async submitScene(requester: Requester, upload: UploadedScene, dto: CreateJobDto) {
    try {
      await validateBlendFile(upload.path);
    } catch (e) {
      if (e instanceof BlendFileError) throw new BadRequestException(e.message);
      throw e;
    }
    const sha256 = await sha256File(upload.path);
    const known = await this.repo.findScene(sha256);
    // Stored once per content hash; stored again if the blob went missing from storage.
    const scene =
      known && (await this.storage.head(known.storageKey))
        ? known
        : await this.storeScene(sha256, upload);
    const job = await this.repo.createJob(requester.apiKeyId, scene.sha256, toJobSettings(dto));
    const queued = await this.planning.add(
      'plan',
      { jobId: job.id },
      { jobId: planningJobId(job.id) },
    );
    try {
      await queued.waitUntilFinished(this.planningEvents, this.config.INSPECT_TIMEOUT_MS + 30_000);
    } catch (e) {
      const failed = await this.repo.findJobForRequester(job.id, requester.apiKeyId);
      if (failed?.status === 'FAILED') {
        await this.forget(job.id, scene.sha256);
        throw new UnprocessableEntityException(failed.error ?? 'the scene cannot be rendered');
      }
      // Still planning (slow scene or busy planners): the requester follows it by id.
      this.logger.warn(`job ${job.id} still planning: ${(e as Error).message}`);
    }
    return this.get(requester, job.id);
  }

  async get(requester: Requester, id: string) {
    // The list's own row of the job: its ETA and cost are the list's, computed once (job-view.ts).
    const [job, [totals]] = await Promise.all([
      this.repo.findJobForRequester(id, requester.apiKeyId),
      this.repo.listJobs(requester.apiKeyId, { id, limit: 1 }),
    ]);
    if (!job || !totals) throw new NotFoundException('no such job');
    return toJobView(job, totals, new Date());
  }

  /** The requester's jobs, newest first (an admin key sees every job). */
  async list(requester: Requester, filter: ListJobsDto) {
    const rows = await this.repo.listJobs(requester.admin ? null : requester.apiKeyId, {
      status: filter.status,
      before: filter.before ? new Date(filter.before) : undefined,
      limit: filter.limit ?? 50,
    });
    const now = new Date();
    return rows.map((r) => toJobSummary(r, now));
  }

  /** Cancels a planning or rendering job: leases end, no shard of it is granted again. */
  async cancel(requester: Requester, id: string) {
    const scope = requester.admin ? null : requester.apiKeyId;
    const ended = await this.repo.cancelJob(id, scope);
    if (!ended) {
      const job = await this.repo.jobStatus(id, scope);
      if (!job) throw new NotFoundException('no such job');
      throw new ConflictException(`job is already ${job.status.toLowerCase()}`);
    }
    this.afterEnd(id, 'CANCELLED', ended);
    return { id, status: 'CANCELLED', leasesEnded: ended.length };
  }

  /**
   * A job that cannot finish while rendering (a tile no node could render): it stops with the
   * reason, like a cancel; verified work is still paid and the rest of the deposit refunded.
   */
  async failRendering(id: string, error: string): Promise<boolean> {
    const ended = await this.repo.endJob(id, { status: 'FAILED', error });
    if (!ended) return false;
    this.logger.warn(`job ${id} failed: ${error}`);
    this.afterEnd(id, 'FAILED', ended);
    return true;
  }

  private afterEnd(
    id: string,
    status: 'CANCELLED' | 'FAILED',
    ended: { leaseId: string; shardId: string }[],
  ): void {
    this.publishEnded(id, ended, endReason(status));
    this.events.publish({ type: 'job.finished', jobId: id, status });
    // Grants in flight are ended with the job (endJob), but a check shard that verification
    // adds while the job ends was not among the shards it locked: one more pass shortly after
    // ends a lease of such a straggler too.
    setTimeout(() => {
      this.repo.endLeasesOfJob(id, endReason(status)).then(
        (late) => this.publishEnded(id, late, endReason(status)),
        (e: Error) => this.logger.warn(`job ${id}: late lease cleanup failed: ${e.message}`),
      );
    }, CANCEL_RECHECK_MS).unref();
  }

  private publishEnded(
    jobId: string,
    leases: { leaseId: string; shardId: string }[],
    reason: string,
  ) {
    for (const lease of leases) {
      this.events.publish({
        type: 'lease.ended',
        jobId,
        shardId: lease.shardId,
        leaseId: lease.leaseId,
        status: 'RELEASED',
        reason,
      });
    }
  }

  async frameImage(requester: Requester, id: string, frame: number): Promise<Readable> {
    const found = await this.repo.findFrameForRequester(id, frame, requester.apiKeyId);
    if (!found) throw new NotFoundException('no such frame in this job');
    if (found.status !== 'DONE' || !found.imageKey) {
      throw new NotFoundException(`frame ${frame} is not finished yet`);
    }
    try {
      return await this.storage.getStream(found.imageKey);
    } catch (e) {
      if (e instanceof BlobNotFoundError) throw new NotFoundException('frame image missing');
      throw e;
    }
  }

  private async storeScene(sha256: string, upload: UploadedScene) {
    const key = `scenes/${sha256}.blend`;
    await this.storage.put(key, createReadStream(upload.path), {
      contentType: 'application/x-blender',
    });
    return this.repo.upsertScene(sha256, upload.size, key);
  }

  /** A rejected submission leaves no job, and no scene that only it used. */
  private async forget(jobId: string, sceneSha256: string) {
    await this.repo.deleteJob(jobId);
    const key = await this.repo.deleteSceneIfUnused(sceneSha256);
    if (key) await this.storage.delete(key);
  }
}
