import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { LeasesService } from './leases.service';

/**
 * Returns lapsed leases to the pool: a grant takes only PENDING shards, so this is how the work
 * of a dead node comes back (within LEASE_SWEEP_MS of its lease's expiry), and idle agents are
 * woken for it. Every replica runs it; SKIP LOCKED keeps them out of each other's way.
 */
@Injectable()
export class LeaseSweeperService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LeaseSweeperService.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly leases: LeasesService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), this.config.LEASE_SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const freed = await this.leases.sweep();
      if (freed > 0) this.logger.log(`${freed} lapsed lease(s) returned to the pool`);
    } catch (e) {
      this.logger.warn(`lease sweep failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
