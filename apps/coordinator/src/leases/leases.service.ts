import { InjectQueue } from '@nestjs/bullmq';
import {
  ConflictException,
  ForbiddenException,
  GoneException,
  Inject,
  Injectable,
  NotFoundException,
  OnModuleDestroy,
  UnauthorizedException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { completionMessage, CompleteRequest, eip191SignedBy, LeaseGrant } from '@tessera/protocol';
import { checkPng, pngHeaderSize } from '@tessera/verification';
import { Queue } from 'bullmq';
import { NodeClaims } from '../auth/session-token';
import { APP_CONFIG, AppConfig } from '../config/config';
import { WorkSignalService } from '../dispatch/work-signal.service';
import { EventsService } from '../events/events.service';
import { JobsService } from '../jobs/jobs.service';
import { Batcher } from '../queues/batcher';
import { QueueName, VerificationPayload } from '../queues/queues';
import { BLOB_STORAGE, BlobNotFoundError, BlobStorage } from '../storage/blob-storage';
import { BlobTooLargeError } from '../storage/byte-limit';
import { CheckedBlobs, sha256Hex } from '../storage/checked-blobs';
import { RecentUploads } from '../storage/recent-uploads';
import { JobFactsRepository } from './job-facts.repository';
import { GrantedLeases, LeaseFacts } from './granted-leases';
import { LeasesRepository } from './leases.repository';
import { resultKey } from './result-key';

const RESULT_CONTENT_TYPE = 'image/png';
/** A node's last-seen time is written at most this often per replica (it is informational). */
const TOUCH_INTERVAL_MS = 10_000;
const TOUCH_CACHE_LIMIT = 10_000;
const ORPHAN_REASON = 'granted, but the node never received it';
/** Completions within this many ms share one verification queue job. */
const VERIFICATION_BATCH_MS = 5;
/** Immediate retries of a grant that lost every candidate to concurrent grants. */
const MAX_CONTENDED_RETRIES = 3;

@Injectable()
export class LeasesService implements OnModuleDestroy {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    @InjectQueue(QueueName.Verification) private readonly verification: Queue<VerificationPayload>,
    private readonly tiles: CheckedBlobs,
    private readonly uploads: RecentUploads,
    private readonly repo: LeasesRepository,
    private readonly jobs: JobFactsRepository,
    private readonly signal: WorkSignalService,
    private readonly events: EventsService,
    private readonly jobFailures: JobsService,
  ) {}

  private readonly touched = new Map<string, number>();
  private readonly granted = new GrantedLeases();
  // A completion is answered once its shard is in the verification queue, as before batching.
  private readonly toVerify = new Batcher<string>(
    (shardIds) => this.verification.add('results', { shardIds }),
    { maxWaitMs: VERIFICATION_BATCH_MS, maxItems: 100 },
  );

  // Last-seen times of polling nodes, written for all of them in one statement each second.
  private readonly toTouch = new Batcher<string>((nodeIds) => this.repo.touchNodes(nodeIds), {
    maxWaitMs: 1000,
    maxItems: 1000,
  });

  onModuleDestroy(): void {
    // Completions still waiting for their batch go to the queue before it closes (at shutdown).
    this.toVerify.flush();
    this.toTouch.flush();
  }

  /** Long-polls for work: grants at once when a shard is free, else waits for a signal. */
  async request(
    node: NodeClaims,
    waitMs: number,
    abort: AbortSignal,
    held?: string[],
  ): Promise<LeaseGrant | null> {
    const deadline = Date.now() + Math.min(waitMs, this.config.LEASE_MAX_WAIT_MS);
    this.touch(node.nodeId);
    if (held) await this.releaseOrphans(node, held);
    let contended = 0;
    for (;;) {
      if (abort.aborted) return null;
      const { shard, contended: lost } = await this.repo.grant(
        node.nodeId,
        this.config.LEASE_TTL_MS,
      );
      // Free shards were there but concurrent grants took them all: try again at once rather
      // than wait for a signal that only new or returned work sends.
      if (lost && ++contended <= MAX_CONTENDED_RETRIES) continue;
      contended = 0;
      if (shard && abort.aborted) {
        // Granted to an agent that has just gone: give it back now rather than at expiry.
        await this.repo.release(shard.leaseId, node.nodeId, 'RELEASED', 'agent went away');
        this.signal.notify();
        return null;
      }
      if (shard) {
        this.granted.remember({ ...shard, nodeId: node.nodeId });
        this.events.publish({
          type: 'lease.granted',
          jobId: shard.jobId,
          shardId: shard.shardId,
          leaseId: shard.leaseId,
          nodeId: node.nodeId,
          frame: shard.frameNumber,
        });
        const facts = await this.jobs.get(shard.jobId);
        const key = resultKey(shard.jobId, shard.shardId, shard.leaseId);
        return {
          leaseId: shard.leaseId,
          jobId: shard.jobId,
          shardId: shard.shardId,
          frame: shard.frameNumber,
          resolution: { width: facts.width, height: facts.height },
          region: { x: shard.x, y: shard.y, width: shard.width, height: shard.height },
          seed: facts.seed,
          samples: facts.samples,
          scene: {
            sha256: facts.sceneSha256,
            size: facts.sceneSize,
            url: await this.storage.presignGet(facts.sceneKey, this.config.PRESIGN_TTL_S),
          },
          upload: {
            url: await this.storage.presignPut(key, {
              ttlSeconds: this.config.PRESIGN_TTL_S,
              contentType: RESULT_CONTENT_TYPE,
              maxBytes: this.config.MAX_TILE_BYTES,
            }),
            method: 'PUT',
            contentType: RESULT_CONTENT_TYPE,
            maxBytes: this.config.MAX_TILE_BYTES,
          },
          expiresAt: shard.expiresAt.toISOString(),
          heartbeatMs: Math.floor(this.config.LEASE_TTL_MS / 3),
        };
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await this.signal.wait(left, abort);
    }
  }

  async heartbeat(node: NodeClaims, leaseId: string): Promise<{ expiresAt: string }> {
    // The extension checks that the lease is live and the node's; only a refusal reads why.
    const expiresAt = await this.repo.extend(leaseId, node.nodeId, this.config.LEASE_TTL_MS);
    if (!expiresAt) {
      await this.liveLease(node, leaseId);
      throw new GoneException('lease expired');
    }
    return { expiresAt: expiresAt.toISOString() };
  }

  async complete(node: NodeClaims, leaseId: string, body: CompleteRequest) {
    // A lease this replica granted is not read back: the completing statement decides whether
    // it is still live, and a refusal reads the lease to say why.
    const lease = this.granted.get(leaseId, node.nodeId) ?? (await this.liveLease(node, leaseId));
    const sha256 = body.sha256.toLowerCase();
    this.checkSignature(node, completionMessage(leaseId, sha256), body.signature);
    const key = resultKey(lease.jobId, lease.shardId, leaseId);
    const bytes = await this.checkUpload(key, sha256, lease);
    const done = await this.repo.complete(lease, node.nodeId, {
      storageKey: key,
      sha256,
      signature: body.signature,
      renderMs: body.renderMs,
    });
    this.granted.forget(leaseId);
    if (!done) {
      await this.liveLease(node, leaseId);
      throw new GoneException('lease expired before completion; the shard was re-queued');
    }
    this.events.publish({
      type: 'lease.completed',
      jobId: done.jobId,
      shardId: done.shardId,
      leaseId,
      nodeId: node.nodeId,
      renderMs: body.renderMs,
    });
    this.tiles.remember(key, sha256, bytes);
    // Verification decides what happens next (checks, then assembly); ids only in the queue.
    await this.toVerify.add(done.shardId);
    return { accepted: true, shardId: done.shardId };
  }

  async fail(node: NodeClaims, leaseId: string, reason: string, released = false) {
    const lease = await this.liveLease(node, leaseId, { allowLapsed: true });
    const status = released ? 'RELEASED' : 'FAILED';
    const ok = await this.repo.release(leaseId, node.nodeId, status, reason);
    this.granted.forget(leaseId);
    if (!ok) throw new GoneException('lease already ended');
    this.events.publish({
      type: 'lease.ended',
      jobId: lease.jobId,
      shardId: lease.shardId,
      leaseId,
      status,
      reason,
    });
    if (status === 'FAILED') await this.failJobIfHopeless(lease.jobId, lease.shardId, reason);
    this.signal.notify();
    return { released: true };
  }

  /**
   * A tile that several different nodes failed to render (out of memory, a crash in Blender)
   * would otherwise go round the farm for ever: its job fails with their reason. Distinct nodes,
   * so that one broken or hostile node cannot fail other people's jobs on its own.
   */
  private async failJobIfHopeless(jobId: string, shardId: string, reason: string) {
    const { nodes, frameNumber, tileX, tileY } = await this.repo.failuresOf(shardId);
    if (nodes < this.config.SHARD_MAX_FAILURES) return;
    await this.jobFailures.failRendering(
      jobId,
      `frame ${frameNumber} tile (${tileX}, ${tileY}) failed on ${nodes} node(s); the last said: ${reason}`,
    );
  }

  /**
   * A grant committed by a coordinator that died before answering holds its shard until the lease
   * lapses. The node lists what it holds with each poll: its active leases older than the grace
   * period that it does not list never reached it, and go back to the pool now.
   */
  private async releaseOrphans(node: NodeClaims, held: string[]): Promise<void> {
    const orphans = await this.repo.releaseUnheld(
      node.nodeId,
      held,
      this.config.LEASE_ORPHAN_GRACE_MS,
      ORPHAN_REASON,
    );
    if (orphans.length === 0) return;
    for (const lease of orphans) {
      this.events.publish({
        type: 'lease.ended',
        jobId: lease.jobId,
        shardId: lease.shardId,
        leaseId: lease.id,
        status: 'RELEASED',
        reason: ORPHAN_REASON,
      });
    }
    this.signal.notify();
  }

  /** Records that the node is alive, without a database write on every poll of every node. */
  private touch(nodeId: string): void {
    const now = Date.now();
    if (now - (this.touched.get(nodeId) ?? 0) < TOUCH_INTERVAL_MS) return;
    if (this.touched.size >= TOUCH_CACHE_LIMIT) this.touched.clear();
    this.touched.set(nodeId, now);
    this.toTouch.add(nodeId).catch(() => undefined);
  }

  /** Frees lapsed leases; wakes waiting agents when something came back. */
  async sweep(): Promise<number> {
    const freed = await this.repo.expireLapsed();
    if (freed.length > 0) this.signal.notify();
    for (const lease of freed) {
      this.events.publish({
        type: 'lease.ended',
        jobId: lease.jobId,
        shardId: lease.shardId,
        leaseId: lease.id,
        status: 'EXPIRED',
      });
    }
    return freed.length;
  }

  private async liveLease(node: NodeClaims, leaseId: string, opts: { allowLapsed?: boolean } = {}) {
    const lease = await this.repo.findLease(leaseId);
    if (!lease) throw new NotFoundException('no such lease');
    if (lease.nodeId !== node.nodeId) throw new ForbiddenException('lease belongs to another node');
    const lapsed = lease.status === 'EXPIRED' || lease.expiresAt.getTime() <= Date.now();
    if (lease.status !== 'ACTIVE' && lease.status !== 'EXPIRED') {
      throw new ConflictException(`lease is ${lease.status.toLowerCase()}`);
    }
    if (lapsed && !opts.allowLapsed) throw new GoneException('lease expired');
    return lease;
  }

  private checkSignature(node: NodeClaims, message: string, signature: string) {
    let signed: boolean;
    try {
      signed = eip191SignedBy(node.address, message, signature);
    } catch {
      throw new UnauthorizedException('malformed result signature');
    }
    if (!signed) {
      throw new UnauthorizedException('result signature does not match the node address');
    }
  }

  /** The uploaded tile must exist, match the claimed hash and be a PNG of the leased size. */
  private async checkUpload(key: string, sha256: string, lease: LeaseFacts) {
    let bytes: Buffer;
    try {
      // Uploaded through this replica (fs driver): the bytes its PUT stored, held to the same
      // limit, not read back. Else read, with the limit checked here: S3 presigned PUTs
      // cannot cap the size.
      bytes =
        this.uploads.take(key) ??
        (await this.storage.get(key, { maxBytes: this.config.MAX_TILE_BYTES }));
    } catch (e) {
      if (e instanceof BlobNotFoundError) {
        throw new UnprocessableEntityException('no upload found for this lease');
      }
      if (e instanceof BlobTooLargeError) {
        throw new UnprocessableEntityException(
          `uploaded tile is larger than ${this.config.MAX_TILE_BYTES} bytes`,
        );
      }
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new UnprocessableEntityException(
        `uploaded tile hash ${actual} does not match ${sha256}`,
      );
    }
    // The size first, from the header, so that the whole check below never inflates more than
    // the lease's pixels; then the whole structure, so that no accepted tile fails to decode later
    // in verification or assembly (which would retry it for ever and stall its frame).
    const size = pngHeaderSize(bytes);
    if (!size) throw new UnprocessableEntityException('uploaded tile is not a PNG image');
    if (size.width !== lease.width || size.height !== lease.height) {
      throw new UnprocessableEntityException(
        `uploaded tile is ${size.width}x${size.height}, the lease is for ${lease.width}x${lease.height}`,
      );
    }
    try {
      checkPng(bytes);
    } catch (e) {
      throw new UnprocessableEntityException(`uploaded tile is ${(e as Error).message}`);
    }
    return bytes;
  }
}
