import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { newReputation, ReputationState, reputationScore } from '@tessera/verification';
import { Zip, ZipPassThrough } from 'fflate';
import { PassThrough, Readable } from 'node:stream';
import type { Requester } from '../auth/guards';
import { BLOB_STORAGE, BlobNotFoundError, BlobStorage } from '../storage/blob-storage';
import { DashboardRepository } from './dashboard.repository';
import { jobTimeline } from './job-timeline';
import { tileState } from './tile-state';

/** A node counts as online when it polled this recently or holds a lease. */
const ONLINE_WINDOW_MS = 60_000;
/** Throughput is measured over this window. */
const THROUGHPUT_WINDOW_MS = 10 * 60_000;
const TIMELINE_VERDICTS = 500;
const TIMELINE_PAYOUTS = 500;

type Verdict = Awaited<ReturnType<DashboardRepository['verdictsAbout']>>[number];

@Injectable()
export class DashboardService {
  constructor(
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly repo: DashboardRepository,
  ) {}

  /**
   * The job page's snapshot: frames with their thumbnails and a compact tile grid. Tiles are
   * arrays in the order of `tileColumns` (4,800 tiles of a 300-frame job stay a small payload).
   */
  async jobGrid(requester: Requester, jobId: string) {
    const job = await this.job(requester, jobId);
    const shards = await this.repo.gridShards(jobId);
    const tilesX = shards.reduce((m, s) => Math.max(m, s.tileX + 1), 0);
    const tilesY = shards.reduce((m, s) => Math.max(m, s.tileY + 1), 0);
    const byFrame = new Map<number, (string | number | null)[][]>();
    for (const s of shards) {
      const list = byFrame.get(s.frame) ?? [];
      list.push([s.id, s.tileX, s.tileY, tileState(s), s.nodeId, s.attempts, s.rejected ? 1 : 0]);
      byFrame.set(s.frame, list);
    }
    return {
      id: job.id,
      status: job.status,
      error: job.error,
      owner: job.apiKey.name,
      settings: job.settings,
      scene: job.sceneInfo,
      verification: job.verification,
      createdAt: job.createdAt,
      plannedAt: job.plannedAt,
      completedAt: job.completedAt,
      tilesX,
      tilesY,
      tileColumns: ['shardId', 'x', 'y', 'state', 'nodeId', 'attempts', 'rejected'],
      frames: job.frames.map((f) => ({
        number: f.number,
        status: f.status,
        completedAt: f.completedAt,
        tiles: byFrame.get(f.number) ?? [],
      })),
    };
  }

  /** One tile's story: every lease, every result (accepted or thrown away), and the verdicts. */
  async tileDetail(requester: Requester, jobId: string, frame: number, x: number, y: number) {
    await this.job(requester, jobId);
    const tile = await this.repo.findTile(jobId, frame, x, y);
    if (!tile) throw new NotFoundException('no such tile in this job');
    const verdicts = await this.repo.verdictsAbout(
      jobId,
      tile.results.map((r) => r.id),
    );
    const rejected = tile.results.some((r) => r.id !== tile.resultId);
    return {
      shardId: tile.id,
      frame,
      x,
      y,
      region: { x: tile.x, y: tile.y, width: tile.width, height: tile.height },
      state: tileState({ status: tile.status, verified: tile.verifiedAt !== null, rejected }),
      verifiedAt: tile.verifiedAt,
      attempts: tile.attempts,
      leases: tile.leases.map((l) => ({
        id: l.id,
        status: l.status,
        node: l.node,
        grantedAt: l.grantedAt,
        endedAt: l.endedAt,
        reason: l.failReason,
      })),
      results: tile.results.map((r) => ({
        id: r.id,
        nodeId: r.nodeId,
        renderMs: r.renderMs,
        createdAt: r.createdAt,
        sha256: r.sha256,
        accepted: r.id === tile.resultId,
      })),
      verdicts: verdicts.map(verdictView),
    };
  }

  /**
   * The job's timeline as the database has it (planned, leased, verified, verdicts, assembled,
   * paid); the browser appends live events between reads and drops those the read already holds.
   */
  async timeline(requester: Requester, jobId: string) {
    const job = await this.job(requester, jobId);
    // events published before this instant may already be in what is read below
    const asOf = new Date();
    const [milestones, verdicts, payouts, counts] = await Promise.all([
      this.repo.frameMilestones(jobId),
      this.repo.notableVerdicts(jobId, TIMELINE_VERDICTS),
      this.repo.payoutsOfJob(jobId, TIMELINE_PAYOUTS),
      this.repo.verdictCounts(jobId),
    ]);
    const byFrame = new Map(milestones.map((m) => [m.frame, m]));
    const entries = jobTimeline({
      job,
      frames: job.frames.map((f) => ({
        frame: f.number,
        tiles: byFrame.get(f.number)?.tiles ?? 0,
        verified: byFrame.get(f.number)?.verified ?? 0,
        firstLeasedAt: byFrame.get(f.number)?.firstLeasedAt ?? null,
        lastVerifiedAt: byFrame.get(f.number)?.lastVerifiedAt ?? null,
        completedAt: f.completedAt,
      })),
      verdicts,
      payouts: payouts.map((p) => ({
        kind: p.kind,
        nodeId: p.nodeId,
        amountWei: p.amountWei.toFixed(0),
        txHash: p.chainTx?.txHash ?? null,
        createdAt: p.createdAt,
      })),
    });
    return {
      asOf,
      entries,
      verdictCounts: counts.map((c) => ({
        kind: c.kind,
        outcome: c.outcome,
        count: c._count._all,
      })),
    };
  }

  async frameImage(requester: Requester, jobId: string, frame: number, which: 'image' | 'thumb') {
    const found = await this.repo.findFrame(jobId, frame, scopeOf(requester));
    if (!found) throw new NotFoundException('no such frame in this job');
    const key = which === 'thumb' ? found.thumbKey : found.imageKey;
    if (found.status !== 'DONE' || !key) {
      throw new NotFoundException(`frame ${frame} is not finished yet`);
    }
    try {
      return await this.storage.getStream(key);
    } catch (e) {
      if (e instanceof BlobNotFoundError) throw new NotFoundException('frame image missing');
      throw e;
    }
  }

  /** Every finished frame as one zip, streamed (PNGs are stored, not compressed again). */
  async framesZip(requester: Requester, jobId: string): Promise<Readable> {
    await this.job(requester, jobId);
    const frames = await this.repo.finishedFrames(jobId);
    if (frames.length === 0) throw new NotFoundException('no finished frames yet');
    const out = new PassThrough();
    const zip = new Zip((err, chunk, final) => {
      if (err) return out.destroy(err);
      out.write(Buffer.from(chunk));
      if (final) out.end();
    });
    void (async () => {
      try {
        for (const f of frames) {
          const entry = new ZipPassThrough(`frame-${String(f.number).padStart(4, '0')}.png`);
          zip.add(entry);
          entry.push(new Uint8Array(await this.storage.get(f.imageKey!)), true);
        }
        zip.end();
      } catch (e) {
        out.destroy(e as Error);
      }
    })();
    return out;
  }

  async nodes() {
    const now = Date.now();
    const { nodes, recent, totals, earnings } = await this.repo.nodes(
      new Date(now - THROUGHPUT_WINDOW_MS),
    );
    const earnedBy = new Map(earnings.map((e) => [e.nodeId, e._sum.amountWei?.toFixed(0)]));
    const recentBy = new Map(recent.map((r) => [r.nodeId, r]));
    const totalBy = new Map(totals.map((t) => [t.nodeId, t._count._all]));
    return nodes.map((n) => {
      const r = recentBy.get(n.id);
      const trust = (n.trust as ReputationState | null) ?? newReputation();
      return {
        id: n.id,
        address: n.address,
        name: n.name,
        online: n.leases.length > 0 || now - n.lastSeenAt.getTime() < ONLINE_WINDOW_MS,
        lastSeenAt: n.lastSeenAt,
        capabilities: n.capabilities,
        current: n.leases.map((l) => ({ leaseId: l.id, grantedAt: l.grantedAt, ...l.shard })),
        throughput: {
          windowMs: THROUGHPUT_WINDOW_MS,
          tiles: r?._count._all ?? 0,
          renderMs: r?._sum.renderMs ?? 0,
        },
        tilesTotal: totalBy.get(n.id) ?? 0,
        reputation: { score: reputationScore(trust), failedChecks: trust.failedChecks },
        blocklists: n.blocks,
        // settled wei (null: never paid, or the farm runs without a chain)
        earnings: earnedBy.get(n.id) ?? null,
      };
    });
  }

  private async job(requester: Requester, jobId: string) {
    const job = await this.repo.findJob(jobId, scopeOf(requester));
    if (!job) throw new NotFoundException('no such job');
    return job;
  }
}

function scopeOf(requester: Requester): string | null {
  return requester.admin ? null : requester.apiKeyId;
}

function verdictView(v: Verdict) {
  return {
    id: v.id,
    frame: v.frameNumber,
    kind: v.kind,
    outcome: v.outcome,
    results: [v.resultA, v.resultB].filter(Boolean),
    nodes: [v.nodeA, v.nodeB].filter(Boolean),
    evidence: v.evidence,
    createdAt: v.createdAt,
  };
}
