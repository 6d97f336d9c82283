import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  AdminGuard,
  ApiKeyGuard,
  CurrentNode,
  CurrentRequester,
  NodeSessionGuard,
  Requester,
} from '../auth/guards';
import type { NodeClaims } from '../auth/session-token';
import { FundingDto } from './dto/funding.dto';
import { PayoutsService } from './payouts.service';

@ApiTags('payouts')
@Controller('api/v1')
export class PayoutsController {
  constructor(private readonly payouts: PayoutsService) {}

  /** The escrow's chain and address, the minimum stake and the default price. */
  @Get('chain')
  chain() {
    return this.payouts.chainInfo();
  }

  /** What the job costs (work units, price, verification allowance) and the deposit it needs. */
  @Get('jobs/:id/quote')
  @ApiBearerAuth()
  @UseGuards(ApiKeyGuard)
  quote(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.payouts.quote(requester, id);
  }

  /** Broadcasts a signed fund(jobKey) transaction (the other way: send it yourself). */
  @Post('jobs/:id/funding')
  @ApiBearerAuth()
  @UseGuards(ApiKeyGuard)
  fund(
    @CurrentRequester() requester: Requester,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: FundingDto,
  ) {
    return this.payouts.fund(requester, id, body.signedTx);
  }

  /** The job's ledger: accrued, settled, slashed and refunded amounts with transaction hashes. */
  @Get('jobs/:id/payouts')
  @ApiBearerAuth()
  @UseGuards(ApiKeyGuard)
  jobLedger(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.payouts.jobLedger(requester, id);
  }

  /** Admin keys: a FAILED settlement (e.g. a rule the escrow enforced, since fixed) goes again. */
  @Post('jobs/:id/settlement/retry')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(ApiKeyGuard, AdminGuard)
  retrySettlement(@Param('id', ParseUUIDPipe) id: string) {
    return this.payouts.retrySettlement(id);
  }

  /** Settlements, slashes and refunds of the requester's jobs (admins: all), newest first. */
  @Get('payouts')
  @ApiBearerAuth()
  @UseGuards(ApiKeyGuard)
  list(@CurrentRequester() requester: Requester) {
    return this.payouts.payouts(requester);
  }

  /** A node operator's earnings: accrued, settled, pending and slashed. */
  @Get('nodes/me/earnings')
  @ApiBearerAuth()
  @UseGuards(NodeSessionGuard)
  earnings(@CurrentNode() node: NodeClaims) {
    return this.payouts.earnings(node.address);
  }
}
