import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/config';
import { redisConnection } from '../dispatch/redis';
import { Batcher } from '../queues/batcher';
import { EventLog } from './event-log';
import type { FarmEvent, FarmEventEnvelope } from './farm-event';

/** How many recent events each replica keeps for browsers that reconnect with Last-Event-ID. */
const LOG_CAPACITY = 5000;
/** Events go to Redis in batches: one message per this many ms, however many events. */
const PUBLISH_BATCH_MS = 10;

export type FarmEventListener = (e: FarmEventEnvelope) => void;

/**
 * The farm's live events. Any service publishes a typed FarmEvent; it goes through one Redis
 * pub/sub channel, so every replica's SSE clients see events from every replica (and from the
 * queue workers wherever they run). Publishing never fails the caller: events are a view of state
 * that is in Postgres, and a browser that misses one re-reads the snapshot. A message on the
 * channel is one envelope or an array of them (a batch).
 */
@Injectable()
export class EventsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventsService.name);
  private readonly channel: string;
  private readonly log = new EventLog(LOG_CAPACITY);
  private readonly listeners = new Set<FarmEventListener>();
  private readonly closers = new Set<() => void>();
  private publisher!: Redis;
  private subscriber!: Redis;
  private closing = false;
  // Envelope ids: unique across replicas by a random tag drawn once, then a counter (a random
  // draw per event was 1% of a busy coordinator's CPU).
  private readonly idTag = randomBytes(4).toString('hex');
  private idSeq = 0;
  private readonly outbox = new Batcher<FarmEventEnvelope>(
    (batch) =>
      this.publisher.publish(this.channel, JSON.stringify(batch)).catch((e: Error) => {
        this.logger.warn(`${batch.length} event(s) not published: ${e.message}`);
      }),
    { maxWaitMs: PUBLISH_BATCH_MS, maxItems: 500 },
  );

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = `${config.QUEUE_PREFIX}:farm-events`;
  }

  async onModuleInit(): Promise<void> {
    const options = redisConnection(this.config.REDIS_URL);
    this.publisher = new Redis(options);
    this.subscriber = new Redis(options);
    this.publisher.on('error', (e) => this.logger.warn(`redis: ${e.message}`));
    this.subscriber.on('error', (e) => this.logger.warn(`redis: ${e.message}`));
    this.subscriber.on('message', (_channel, message: string) => this.receive(message));
    await this.subscriber.subscribe(this.channel);
  }

  onModuleDestroy(): void {
    // Open streams would keep the HTTP server from closing: end them, browsers reconnect. One
    // that reconnects before the server stops accepting is ended at once (subscribe).
    this.closing = true;
    for (const close of this.closers) close();
    this.closers.clear();
    this.listeners.clear();
    this.outbox.flush();
    this.publisher?.quit().catch(() => undefined);
    this.subscriber?.disconnect();
  }

  publish(event: FarmEvent): void {
    const envelope: FarmEventEnvelope = {
      id: `${Date.now().toString(36)}-${this.idTag}${(++this.idSeq).toString(36)}`,
      at: new Date().toISOString(),
      event,
    };
    void this.outbox.add(envelope);
  }

  /** Listens to every event of the farm; `close` is called at shutdown. Returns the unsubscribe. */
  subscribe(listener: FarmEventListener, close?: () => void): () => void {
    if (this.closing) {
      close?.();
      return () => undefined;
    }
    this.listeners.add(listener);
    if (close) this.closers.add(close);
    return () => {
      this.listeners.delete(listener);
      if (close) this.closers.delete(close);
    };
  }

  /** Events after `lastEventId`, or null when this replica no longer has it (send a snapshot). */
  since(lastEventId: string): FarmEventEnvelope[] | null {
    return this.log.since(lastEventId);
  }

  private receive(message: string): void {
    let parsed: FarmEventEnvelope | FarmEventEnvelope[];
    try {
      parsed = JSON.parse(message) as FarmEventEnvelope | FarmEventEnvelope[];
    } catch {
      return;
    }
    for (const envelope of Array.isArray(parsed) ? parsed : [parsed]) {
      this.log.push(envelope);
      for (const listener of this.listeners) {
        try {
          listener(envelope);
        } catch (e) {
          this.logger.warn(`event listener failed: ${(e as Error).message}`);
        }
      }
    }
  }
}
