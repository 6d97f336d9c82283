import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventsService } from '../events/events.service';
import {
  checkNudgeJobId,
  planningJobId,
  PlanningPayload,
  QueueName,
  VerificationPayload,
} from './queues';
import { ReconcilerRepository } from './reconciler.repository';

/**
 * Postgres is the source of truth and a queue entry only a nudge, so nudges lost with Redis (a
 * restart without persistence, a flush) are re-derived from the database: at start-up and then
 * periodically. The queues' job ids dedupe, so re-adding what is still queued is harmless.
 */
@Injectable()
export class QueueReconcilerService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(QueueReconcilerService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QueueName.Planning) private readonly planning: Queue<PlanningPayload>,
    @InjectQueue(QueueName.Verification) private readonly verification: Queue<VerificationPayload>,
    private readonly repo: ReconcilerRepository,
    private readonly events: EventsService,
  ) {}

  onModuleInit(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.RECONCILE_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async reconcile(): Promise<void> {
    try {
      // A planning run in flight right now is younger than this; do not race it.
      const before = new Date(Date.now() - this.config.RECONCILE_MS);
      for (const jobId of await this.repo.jobsAwaitingPlanning(before)) {
        await nudge(this.planning, 'plan', { jobId }, planningJobId(jobId));
      }
      // Verification is idempotent and queues the assembly once the frame is verified.
      for (const frameId of await this.repo.framesAwaitingVerification()) {
        await this.verification.add('frame', { frameId });
      }
      // A check's evaluation is not: it records a verdict and may issue an arbitration. Only
      // checks accepted long ago are nudged, so that a backlog's entries still queued are not
      // evaluated twice; their job waits for them (jobs/job-completion.ts).
      const evaluatedBy = new Date(
        Date.now() - CHECK_NUDGE_AFTER_RECONCILES * this.config.RECONCILE_MS,
      );
      for (const shardId of await this.repo.checksAwaitingEvaluation(evaluatedBy)) {
        await nudge(this.verification, 'result', { shardId }, checkNudgeJobId(shardId));
      }
      for (const jobId of await this.repo.completeFinishedJobs()) {
        this.events.publish({ type: 'job.finished', jobId, status: 'COMPLETED' });
      }
    } catch (e) {
      this.logger.warn(`queue reconciliation failed: ${(e as Error).message}`);
    }
  }
}

/** How many reconciliation periods a check render may wait for its evaluation before a nudge. */
const CHECK_NUDGE_AFTER_RECONCILES = 10;

/** Queues the work unless it is queued already; work that ran out of retries is retried. */
async function nudge<T>(queue: Queue<T>, name: string, data: T, jobId: string): Promise<void> {
  const existing = await queue.getJob(jobId);
  if (!existing) {
    await queue.add(name as never, data as never, { jobId });
  } else if (await existing.isFailed()) {
    await existing.retry();
  }
}
