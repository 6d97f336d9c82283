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
import type { Request } from 'express';
import { Readable } from 'node:stream';
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
    req: Request,
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

    const limit = new ByteLimit(max);
    try {
      await this.storage.put(key, this.pipeBody(req, limit), { contentType: claims.ct });
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        // The rest of the body is still on the wire: close the connection after the 413 rather
        // than read an unbounded upload to keep it alive.
        req.res?.setHeader('Connection', 'close');
        req.unpipe(limit);
        throw new PayloadTooLargeException(err.message);
      }
      throw err;
    }
    return { key, size: limit.bytes };
  }

  /**
   * Pipes the raw request body into `limit`. Binary types pass through the app's JSON and
   * urlencoded parsers untouched, so the body is normally still unread here.
   */
  private pipeBody(req: Request, limit: ByteLimit): ByteLimit {
    const body: unknown = req.body;
    if (Buffer.isBuffer(body)) return Readable.from([body]).pipe(limit); // an app-wide raw parser
    if (body !== undefined && req.readableEnded) {
      throw new UnsupportedMediaTypeException(
        'the body was parsed as a form or JSON; upload with a binary Content-Type',
      );
    }
    // Not stream.pipeline(): it would destroy req, and with it the socket, before the 413 goes
    // out. A client abort still fails the limiter, so storage drops the partial blob.
    req.once('error', (err) => limit.destroy(err));
    req.once('close', () => {
      if (!req.complete) limit.destroy(new Error('client aborted the upload'));
    });
    return req.pipe(limit);
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
