import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { APP_CONFIG, type AppConfig } from '../config/config';
import {
  BLOB_STORAGE,
  BlobNotFoundError,
  contentTypeForKey,
  type BlobStorage,
} from './blob-storage';
import { BlobUrlError, BlobUrlSigner, mediaType, type BlobOp } from './blob-url-signer';
import { BlobTooLargeError, ByteLimit } from './byte-limit';
import { parseByteRange } from './byte-range';
import { RecentUploads } from './recent-uploads';

/** 416, with the blob's size so the client can start over. */
export class RangeNotSatisfiableException extends HttpException {
  constructor(readonly size: number) {
    super('Range Not Satisfiable', HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
  }
}

export interface BlobDownload {
  stream: Readable;
  /** bytes sent: the whole blob, or the range */
  size: number;
  contentType: string;
  /** set when a Range was served (206): Content-Range's value */
  contentRange?: string;
}

/** Serves the fs driver's presigned URLs: checks the signature, then streams to or from storage. */
@Injectable()
export class BlobUrlService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly signer: BlobUrlSigner,
    private readonly uploads: RecentUploads,
  ) {}

  /** `rangeHeader`: an HTTP Range, so that an interrupted download can resume. */
  async openDownload(
    key: string,
    query: Record<string, unknown>,
    rangeHeader?: string,
  ): Promise<BlobDownload> {
    this.verify('get', key, query);
    try {
      const head = await this.storage.head(key);
      if (!head) throw new BlobNotFoundError(key);
      const range = parseByteRange(rangeHeader, head.size);
      if (range === 'unsatisfiable') {
        throw new RangeNotSatisfiableException(head.size);
      }
      const stream = await this.storage.getStream(key, range ?? undefined);
      if (!range) return { stream, size: head.size, contentType: contentTypeForKey(key) };
      return {
        stream,
        size: range.end - range.start + 1,
        contentType: contentTypeForKey(key),
        contentRange: `bytes ${range.start}-${range.end}/${head.size}`,
      };
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new NotFoundException(err.message);
      throw err;
    }
  }

  async acceptUpload(
    key: string,
    query: Record<string, unknown>,
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<{ key: string; size: number }> {
    const claims = this.verify('put', key, query);
    const max = claims.max!; // verify() requires max for puts
    const sent = mediaType(req.headers['content-type']);
    if (claims.ct && sent !== claims.ct) {
      throw new UnsupportedMediaTypeException(
        `Content-Type must be ${claims.ct} (as signed), got ${sent ?? 'none'}`,
      );
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      throw new PayloadTooLargeException(`body of ${declared} bytes exceeds the limit of ${max}`);
    }

    const limit = new ByteLimit(max, this.uploads.keepUpTo);
    try {
      await this.storage.put(key, this.pipeBody(req, limit), { contentType: claims.ct });
      this.uploads.stored(key, limit.kept());
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        // The rest of the body is still on the wire: close the connection after the 413 rather
        // than read an unbounded upload to keep it alive.
        res.header('Connection', 'close');
        req.raw.unpipe(limit);
        throw new PayloadTooLargeException(err.message);
      }
      throw err;
    }
    return { key, size: limit.bytes };
  }

  /**
   * Pipes the raw request body into `limit`. Only JSON, text and multipart have parsers in the
   * app (see httpAdapter()), so the body of any other type is still unread here.
   */
  private pipeBody(req: FastifyRequest, limit: ByteLimit): ByteLimit {
    if (req.body !== undefined) {
      throw new UnsupportedMediaTypeException(
        'the body was parsed as JSON or text; upload with a binary Content-Type',
      );
    }
    const body = req.raw;
    // Not stream.pipeline(): it would destroy the body, and with it the socket, before the 413
    // goes out. A client abort still fails the limiter, so storage drops the partial blob.
    body.once('error', (err) => limit.destroy(err));
    body.once('close', () => {
      if (!body.complete) limit.destroy(new Error('client aborted the upload'));
    });
    return body.pipe(limit);
  }

  private verify(op: BlobOp, key: string, query: Record<string, unknown>) {
    if (this.config.STORAGE_DRIVER !== 'fs') {
      // With S3 the presigned URLs point at the bucket, never here.
      throw new NotFoundException('blob URLs are served by S3 with STORAGE_DRIVER=s3');
    }
    try {
      return this.signer.verify(op, key, query);
    } catch (err) {
      if (err instanceof BlobUrlError)
        throw new ForbiddenException(`blob URL rejected: ${err.message}`);
      throw err;
    }
  }
}
