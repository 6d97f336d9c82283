import { Controller, Get, Param, ParseUUIDPipe, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentRequester, Requester } from '../auth/guards';
import { VerdictsService } from './verdicts.service';

@ApiTags('verification')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/jobs/:id/verdicts')
export class VerdictsController {
  constructor(private readonly verdicts: VerdictsService) {}

  /** Every verification decision on the job, with its evidence (regions, scores, nodes). */
  @Get()
  list(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.verdicts.list(requester, id);
  }
}
