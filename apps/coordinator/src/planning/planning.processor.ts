import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { inspectScene, SceneInspectionError } from '@tessera/blender';
import { Job, UnrecoverableError } from 'bullmq';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { APP_CONFIG, AppConfig } from '../config/config';
import { WorkSignalService } from '../dispatch/work-signal.service';
import { EventsService } from '../events/events.service';
import { JobSettings } from '../jobs/dto/create-job.dto';
import { JobsRepository } from '../jobs/jobs.repository';
import { paymentTerms, PricingError, samplesOf } from '../pricing/pricing';
import { PlanningPayload, QueueName } from '../queues/queues';
import { BLOB_STORAGE, BlobStorage } from '../storage/blob-storage';
import { PlanError, planJob } from './planner';
import { sceneProblems } from './scene-rules';

/** Inspects the scene inside Blender (auto-exec off, time-limited) and splits it into shards. */
@Processor(QueueName.Planning, { concurrency: 2 })
export class PlanningProcessor extends WorkerHost {
  private readonly logger = new Logger(PlanningProcessor.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly jobs: JobsRepository,
    private readonly signal: WorkSignalService,
    private readonly events: EventsService,
  ) {
    super();
  }

  async process(queued: Job<PlanningPayload>): Promise<void> {
    const job = await this.jobs.findJobForPlanning(queued.data.jobId);
    if (!job || job.status !== 'PLANNING') return;
    const dir = await mkdtemp(join(tmpdir(), 'tessera-plan-'));
    try {
      const blend = join(dir, 'scene.blend');
      await pipeline(await this.storage.getStream(job.scene.storageKey), createWriteStream(blend));
      const info = await inspectScene(blend, {
        blenderPath: this.config.BLENDER_PATH,
        timeoutMs: this.config.INSPECT_TIMEOUT_MS,
      });
      const problems = sceneProblems(info);
      if (problems.length) throw new PlanError(`cannot render this scene: ${problems.join('; ')}`);
      const settings = job.settings as unknown as JobSettings;
      const plan = planJob({ ...info.resolution, ...info }, settings);
      const terms = paymentTerms({
        escrow: Boolean(this.config.CHAIN_RPC_URL),
        defaultPriceWei: this.config.DEFAULT_PRICE_WEI,
        budgetWei: settings.budgetWei,
        maxPriceWei: settings.maxPriceWei,
        // every frame renders every tile
        tiles: plan.frames.flatMap(() => plan.tiles),
        samples: samplesOf({ settings, sceneInfo: info }),
        verification: settings.verification,
      });
      if (await this.jobs.savePlan(job.id, info, info.seed ?? 0, plan, terms)) {
        this.logger.log(
          `job ${job.id}: ${plan.frames.length} frames x ${plan.tiles.length} tiles planned`,
        );
        this.signal.notify();
        this.events.publish({
          type: 'job.planned',
          jobId: job.id,
          frames: plan.frames.length,
          tiles: plan.tiles.length,
        });
      }
    } catch (e) {
      if (
        e instanceof PlanError ||
        e instanceof SceneInspectionError ||
        e instanceof PricingError
      ) {
        await this.jobs.markFailed(job.id, e.message);
        this.events.publish({
          type: 'job.finished',
          jobId: job.id,
          status: 'FAILED',
          error: e.message,
        });
        throw new UnrecoverableError(e.message);
      }
      // Transient (storage, Blender crash): retried; after the last attempt the job fails visibly.
      if (queued.attemptsMade + 1 >= (queued.opts.attempts ?? 1)) {
        await this.jobs.markFailed(job.id, `planning failed: ${(e as Error).message}`);
      }
      throw e;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
