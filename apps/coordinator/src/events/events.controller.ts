import {
  Controller,
  Get,
  NotFoundException,
  ParseUUIDPipe,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyGuard, CurrentRequester, Requester } from '../auth/guards';
import { EventVisibilityService } from './event-visibility.service';
import { EventsService } from './events.service';
import type { FarmEventEnvelope } from './farm-event';

/** Comment lines keep proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events: `GET /api/v1/events[?job=<id>]`. A browser reconnecting with Last-Event-ID
 * gets what it missed from this replica's recent events, or a `resync` event telling it to re-read
 * the snapshot when that is no longer possible. A fresh stream starts with `ready`.
 */
@ApiTags('events')
@UseGuards(ApiKeyGuard)
@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly visibility: EventVisibilityService,
  ) {}

  @Get()
  async stream(
    @CurrentRequester() requester: Requester,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query('job', new ParseUUIDPipe({ optional: true })) job?: string,
  ): Promise<void> {
    if (job && !requester.admin && (await this.visibility.ownerOf(job)) !== requester.apiKeyId) {
      throw new NotFoundException('no such job');
    }
    // The stream is written to the socket's response directly, not through Fastify's reply.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    // The stream may be ended at any time (shutdown): nothing is written after that.
    const write = (chunk: string) => {
      if (!res.writableEnded) res.write(chunk);
    };
    // Events are sent in arrival order: each waits for the visibility check of the one before.
    let chain = Promise.resolve();
    const send = (e: FarmEventEnvelope) => {
      chain = chain.then(async () => {
        if (res.writableEnded) return;
        if (await this.visibility.canSee(requester, e.event, job)) {
          write(`id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`);
        }
      });
      chain = chain.catch(() => undefined);
    };
    const unsubscribe = this.events.subscribe(send, () => res.end());

    const lastId = req.headers['last-event-id'];
    if (typeof lastId === 'string' && lastId) {
      const missed = this.events.since(lastId);
      if (missed) missed.forEach(send);
      else write('event: resync\ndata: {}\n\n');
    } else {
      write('event: ready\ndata: {}\n\n');
    }

    const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
    req.raw.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
      res.end();
    });
  }
}
