import {
  Body,
  Controller,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentNode, NodeSessionGuard } from '../auth/guards';
import { NodeClaims } from '../auth/session-token';
import { CompleteLeaseDto, FailLeaseDto, LeaseRequestDto } from './dto/lease.dto';
import { LeasesService } from './leases.service';

@ApiTags('leases')
@ApiBearerAuth()
@UseGuards(NodeSessionGuard)
@Controller('api/v1/leases')
export class LeasesController {
  constructor(private readonly leases: LeasesService) {}

  /** Long-poll: 200 with a lease, or 204 when no work appeared within waitMs. */
  @Post()
  async request(
    @CurrentNode() node: NodeClaims,
    @Body() body: LeaseRequestDto,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const abort = new AbortController();
    // The agent went away (connection closed before the answer): stop waiting for it. Not
    // req 'close': on Node >= 16 that fires once the body is read, not when the client leaves.
    res.raw.on('close', () => {
      if (!res.raw.writableFinished) abort.abort();
    });
    const grant = await this.leases.request(node, body.waitMs ?? 20_000, abort.signal, body.held);
    if (!grant) res.status(204);
    return grant ?? undefined;
  }

  @Post(':id/heartbeat')
  @HttpCode(200)
  heartbeat(@CurrentNode() node: NodeClaims, @Param('id', ParseUUIDPipe) id: string) {
    return this.leases.heartbeat(node, id);
  }

  @Post(':id/complete')
  @HttpCode(200)
  complete(
    @CurrentNode() node: NodeClaims,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: CompleteLeaseDto,
  ) {
    return this.leases.complete(node, id, body);
  }

  @Post(':id/fail')
  @HttpCode(200)
  fail(
    @CurrentNode() node: NodeClaims,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: FailLeaseDto,
  ) {
    return this.leases.fail(node, id, body.reason);
  }

  /** Gives a lease back untouched (e.g. the agent is shutting down): re-leased at once. */
  @Post(':id/release')
  @HttpCode(200)
  release(@CurrentNode() node: NodeClaims, @Param('id', ParseUUIDPipe) id: string) {
    return this.leases.fail(node, id, 'released by node', true);
  }
}
