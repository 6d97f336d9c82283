import {
  Controller,
  Get,
  Param,
  ParseIntPipe,
  ParseUUIDPipe,
  StreamableFile,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminGuard, ApiKeyGuard, CurrentRequester, Requester } from '../auth/guards';
import { DashboardService } from './dashboard.service';

const frameName = (n: number) => `frame-${String(n).padStart(4, '0')}.png`;

/** Read models for the dashboard (API key or session cookie; admin keys see every job). */
@ApiTags('dashboard')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/dashboard')
export class DashboardApiController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get('jobs/:id')
  job(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.dashboard.jobGrid(requester, id);
  }

  @Get('jobs/:id/timeline')
  timeline(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.dashboard.timeline(requester, id);
  }

  @Get('jobs/:id/tiles/:frame/:x/:y')
  tile(
    @CurrentRequester() requester: Requester,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('frame', ParseIntPipe) frame: number,
    @Param('x', ParseIntPipe) x: number,
    @Param('y', ParseIntPipe) y: number,
  ) {
    return this.dashboard.tileDetail(requester, id, frame, x, y);
  }

  @Get('jobs/:id/frames.zip')
  async zip(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return new StreamableFile(await this.dashboard.framesZip(requester, id), {
      type: 'application/zip',
      disposition: `attachment; filename="${id}-frames.zip"`,
    });
  }

  @Get('jobs/:id/frames/:frame')
  async frame(
    @CurrentRequester() requester: Requester,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('frame', ParseIntPipe) frame: number,
  ) {
    const stream = await this.dashboard.frameImage(requester, id, frame, 'image');
    return new StreamableFile(stream, {
      type: 'image/png',
      disposition: `inline; filename="${frameName(frame)}"`,
    });
  }

  @Get('jobs/:id/frames/:frame/thumbnail')
  async thumbnail(
    @CurrentRequester() requester: Requester,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('frame', ParseIntPipe) frame: number,
  ) {
    const stream = await this.dashboard.frameImage(requester, id, frame, 'thumb');
    return new StreamableFile(stream, { type: 'image/png' });
  }

  @Get('nodes')
  @UseGuards(AdminGuard)
  nodes() {
    return this.dashboard.nodes();
  }
}
