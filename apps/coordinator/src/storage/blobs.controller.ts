import { Controller, Get, Param, Put, Query, Req, StreamableFile } from '@nestjs/common';
import type { Request } from 'express';
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
  @Get('*key')
  async get(
    @Param('key') key: string[],
    @Query() query: Record<string, unknown>,
  ): Promise<StreamableFile> {
    const blob = await this.blobs.openDownload(key.join('/'), query);
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
