import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '../config/config';
import { redisConnection } from './redis';

/**
 * Wakes long-polling lease requests when work appears anywhere in the farm. Redis pub/sub carries
 * the signal across coordinator replicas; a missed signal only costs one poll interval, because
 * waiters also time out and look again.
 */
@Injectable()
export class WorkSignalService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(WorkSignalService.name);
  private readonly channel: string;
  private publisher!: Redis;
  private subscriber!: Redis;
  private waiters = new Set<() => void>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = `${config.QUEUE_PREFIX}:work-available`;
  }

  async onModuleInit(): Promise<void> {
    const options = redisConnection(this.config.REDIS_URL);
    this.publisher = new Redis(options);
    this.subscriber = new Redis(options);
    this.subscriber.on('message', () => this.wakeAll());
    this.subscriber.on('error', (e) => this.logger.warn(`redis: ${e.message}`));
    this.publisher.on('error', (e) => this.logger.warn(`redis: ${e.message}`));
    await this.subscriber.subscribe(this.channel);
  }

  async onModuleDestroy(): Promise<void> {
    this.wakeAll();
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  /** Tell every replica's waiting agents that shards may be available. */
  notify(): void {
    this.wakeAll();
    this.publisher.publish(this.channel, '1').catch((e: Error) => {
      this.logger.warn(`work signal not published: ${e.message}`);
    });
  }

  /** Resolves on the next signal or after `ms`, whichever comes first. */
  wait(ms: number, abort?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        abort?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      abort?.addEventListener('abort', done);
    });
  }

  private wakeAll(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
