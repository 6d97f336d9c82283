import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  ParseUUIDPipe,
  Post,
  Query,
  StreamableFile,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor, type UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import { ApiBearerAuth, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentRequester, Requester } from '../auth/guards';
import { CreateJobDto } from './dto/create-job.dto';
import { ListJobsDto } from './dto/list-jobs.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiConsumes('multipart/form-data')
  @UseInterceptors(FileInterceptor('scene'))
  create(
    @CurrentRequester() requester: Requester,
    @UploadedFile() scene: UploadedMultipartFile | undefined,
    @Body() body: CreateJobDto,
  ) {
    return this.jobs.submit(
      requester,
      scene?.path ? { path: scene.path, size: scene.size } : undefined,
      body,
    );
  }

  @Get()
  list(@CurrentRequester() requester: Requester, @Query() query: ListJobsDto) {
    return this.jobs.list(requester, query);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.jobs.cancel(requester, id);
  }

  @Get(':id')
  get(@CurrentRequester() requester: Requester, @Param('id', ParseUUIDPipe) id: string) {
    return this.jobs.get(requester, id);
  }

  @Get(':id/frames/:frame')
  async frame(
    @CurrentRequester() requester: Requester,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('frame', ParseIntPipe) frame: number,
  ) {
    const stream = await this.jobs.frameImage(requester, id, frame);
    return new StreamableFile(stream, {
      type: 'image/png',
      disposition: `inline; filename="frame-${String(frame).padStart(4, '0')}.png"`,
    });
  }
}
