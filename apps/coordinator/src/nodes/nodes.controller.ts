import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ChallengeDto, SessionDto } from './dto/node-auth.dto';
import { NodesService } from './nodes.service';

@ApiTags('nodes')
@Controller('api/v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Post('challenge')
  @HttpCode(200)
  challenge(@Body() body: ChallengeDto) {
    return this.nodes.challenge(body.address);
  }

  @Post('session')
  @HttpCode(200)
  session(@Body() body: SessionDto) {
    return this.nodes.session(body);
  }
}
