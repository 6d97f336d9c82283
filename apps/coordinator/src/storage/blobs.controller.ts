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
import type { Request, Response } from 'express';
import { BLOBS_ROUTE } from './blob-url-signer';
import { BlobUrlService } from './blob-url.service';

/**
 * Presigned blob URLs of the fs driver (the S3 driver's URLs point at the bucket; this answers
 * 404 then). No auth guard: the signature in the query is the credential.
 */
@Controller(BLOBS_ROUTE)
export class BlobsController {
  constructor(private readonly blobs: BlobUrlService) {}

  // path-to-regexp v8 named wildcard: `*key` yields the segments as an array.
  // Ranges let an agent resume a large scene download where it broke off.
  @Get('*key')
  async get(
    @Param('key') key: string[],
    @Query() query: Record<string, unknown>,
    @Headers('range') range: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    res.setHeader('Accept-Ranges', 'bytes');
    const blob = await this.blobs.openDownload(key.join('/'), query, range);
    if (blob.contentRange) {
      res.status(206);
      res.setHeader('Content-Range', blob.contentRange);
    }
    return new StreamableFile(blob.stream, { type: blob.contentType, length: blob.size });
  }

  @Put('*key')
  put(
    @Param('key') key: string[],
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
  ): Promise<{ key: string; size: number }> {
    return this.blobs.acceptUpload(key.join('/'), query, req);
  }
}
