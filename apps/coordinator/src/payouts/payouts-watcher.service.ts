import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '../config/config';
import { PayoutsPayload, QueueName, settlementJobId } from '../queues/queues';
import { FundingService } from './funding.service';
import { PayoutsRepository } from './payouts.repository';

/** How long a job ended early gives its last uploads to be verified before it is settled. */
const SETTLE_GRACE_MS = 10_000;

/**
 * Every CHAIN_POLL_MS: looks for deposits, and queues a settlement pass for every job whose
 * rendering is over and whose escrow is not settled. Postgres says what is owed, so losing Redis
 * (and the queue with it) only delays a settlement by one poll.
 */
@Injectable()
export class PayoutsWatcherService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PayoutsWatcherService.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectQueue(QueueName.Payouts) private readonly queue: Queue<PayoutsPayload>,
    private readonly funding: FundingService,
    private readonly repo: PayoutsRepository,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), this.config.CHAIN_POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.funding.check();
      for (const jobId of await this.repo.jobsToSettle(SETTLE_GRACE_MS)) {
        // the job id dedupes: a pass already waiting or running is not queued twice
        await this.queue.add('settle', { jobId }, { jobId: settlementJobId(jobId) });
      }
    } catch (e) {
      this.logger.warn(`payouts watch failed (retried next poll): ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
