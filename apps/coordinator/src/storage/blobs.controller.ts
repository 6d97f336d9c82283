import {
  Controller,
  Get,
  Headers,
  Param,
  Put,
  Query,
  Req,
  Res,
  StreamableFile,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BLOBS_ROUTE } from './blob-url-signer';
import { BlobUrlService } from './blob-url.service';

/**
 * Presigned blob URLs of the fs driver (the S3 driver's URLs point at the bucket; this answers
 * 404 then). No auth guard: the signature in the query is the credential.
 */
@Controller(BLOBS_ROUTE)
export class BlobsController {
  constructor(private readonly blobs: BlobUrlService) {}

  // Fastify's wildcard: the rest of the path, decoded, is the blob's key (checked by storage).
  // Ranges let an agent resume a large scene download where it broke off.
  @Get('*')
  async get(
    @Param('*') key: string,
    @Query() query: Record<string, unknown>,
    @Headers('range') range: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<StreamableFile> {
    res.header('Accept-Ranges', 'bytes');
    const blob = await this.blobs.openDownload(key, query, range);
    if (blob.contentRange) {
      res.status(206);
      res.header('Content-Range', blob.contentRange);
    }
    return new StreamableFile(blob.stream, { type: blob.contentType, length: blob.size });
  }

  @Put('*')
  put(
    @Param('*') key: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<{ key: string; size: number }> {
    return this.blobs.acceptUpload(key, query, req, res);
  }
}
