import { priceOf, samplesOf } from '../pricing/pricing';
import { estimateRemainingMs } from './job-eta';
import type { JobsRepository, JobSummaryRow } from './jobs.repository';

const wei = (d: { toFixed(digits: number): string } | null) => (d ? d.toFixed(0) : null);

type JobRow = NonNullable<Awaited<ReturnType<JobsRepository['findJobForRequester']>>>;

/**
 * The API shape of a job: status, progress and a per-frame, per-tile state grid, with the ETA and
 * cost of its row in the job list (`totals`).
 */
export function toJobView(job: JobRow, totals: JobSummaryRow, now: Date) {
  const tilesByFrame = new Map<number, JobRow['shards']>();
  for (const s of job.shards) {
    const list = tilesByFrame.get(s.frameNumber) ?? [];
    list.push(s);
    tilesByFrame.set(s.frameNumber, list);
  }
  const tilesDone = job.shards.filter((s) => s.status === 'DONE').length;
  const framesDone = job.frames.filter((f) => f.status === 'DONE').length;
  const renderMs = job.shards.reduce((sum, s) => sum + (s.result?.renderMs ?? 0), 0);
  return {
    id: job.id,
    status: job.status,
    error: job.error,
    settings: job.settings,
    scene: job.sceneInfo,
    createdAt: job.createdAt,
    plannedAt: job.plannedAt,
    completedAt: job.completedAt,
    progress: {
      frames: { total: job.frames.length, done: framesDone },
      tiles: { total: job.shards.length, done: tilesDone },
      percent: job.shards.length ? Math.round((100 * tilesDone) / job.shards.length) : 0,
      // check renders still to be decided (a job whose frames are all done waits for them)
      checksOpen: job._count.shards,
    },
    // escrow state: NONE when the coordinator runs without a chain; amounts in wei
    payment: {
      state: job.payment,
      priceWei: wei(job.priceWei),
      budgetWei: wei(job.budgetWei),
      depositWei: wei(job.depositWei),
      fundedWei: wei(job.fundedWei),
      note: job.paymentNote,
      quote: `/api/v1/jobs/${job.id}/quote`,
      ledger: `/api/v1/jobs/${job.id}/payouts`,
    },
    timings: {
      wallMs: job.completedAt ? job.completedAt.getTime() - job.createdAt.getTime() : null,
      renderMs,
    },
    ...etaAndCost(totals, now),
    frames: job.frames.map((f) => ({
      number: f.number,
      status: f.status,
      completedAt: f.completedAt,
      image: f.status === 'DONE' ? `/api/v1/jobs/${job.id}/frames/${f.number}` : null,
      tiles: (tilesByFrame.get(f.number) ?? []).map((s) => ({
        x: s.tileX,
        y: s.tileY,
        region: { x: s.x, y: s.y, width: s.width, height: s.height },
        status: s.status,
        verified: s.verifiedAt !== null,
        nodeId: s.nodeId,
        attempts: s.attempts,
        renderMs: s.result?.renderMs ?? null,
      })),
    })),
  };
}

export type JobView = ReturnType<typeof toJobView>;

/** A job in the job list: status, progress counts, ETA and cost. */
export function toJobSummary(r: JobSummaryRow, now: Date) {
  const tiles = { total: r.tilesTotal, done: r.tilesDone, verified: r.tilesVerified };
  return {
    id: r.id,
    status: r.status,
    error: r.error,
    owner: r.owner,
    settings: r.settings,
    scene: r.sceneInfo,
    createdAt: r.createdAt,
    plannedAt: r.plannedAt,
    completedAt: r.completedAt,
    progress: {
      frames: { total: r.framesTotal, done: r.framesDone },
      tiles,
      percent: tiles.total ? Math.round((100 * tiles.done) / tiles.total) : 0,
    },
    ...etaAndCost(r, now),
  };
}

/** ETA and cost so far: the job list and a job's own view both show these, computed here. */
function etaAndCost(r: JobSummaryRow, now: Date) {
  const open = r.status === 'PLANNING' || r.status === 'RENDERING';
  return {
    etaMs: open
      ? estimateRemainingMs({ total: r.tilesTotal, done: r.tilesDone }, r.plannedAt, now)
      : null,
    // Node time so far and, on a farm with payouts, what the verified renders cost (checks too).
    cost: {
      renderMs: Number(r.renderMs),
      wei:
        r.payment === 'NONE' || r.priceWei === null
          ? null
          : priceOf(BigInt(r.verifiedPixels) * BigInt(samplesOf(r)), BigInt(r.priceWei)).toString(),
    },
  };
}
