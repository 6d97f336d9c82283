import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { LeasesService } from './leases.service';

/**
 * Returns lapsed leases to the pool. Correctness does not depend on it (a grant also takes
 * lapsed shards); it keeps statuses honest and wakes idle agents soon after a node dies.
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
