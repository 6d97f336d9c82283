import { toJobSummary, toJobView } from './job-view';
import type { JobSummaryRow } from './jobs.repository';

describe('job views', () => {
  const planned = new Date('2026-01-01T00:00:00Z');
  const now = new Date('2026-01-01T00:01:00Z');
  const row: JobSummaryRow = {
    id: 'j1',
    status: 'RENDERING',
    error: null,
    settings: { samples: 100 },
    sceneInfo: {},
    createdAt: planned,
    plannedAt: planned,
    completedAt: null,
    owner: 'artist',
    framesTotal: 2,
    framesDone: 0,
    tilesTotal: 8,
    tilesDone: 2,
    tilesVerified: 1,
    renderMs: 4000n,
    payment: 'FUNDED',
    priceWei: '1000',
    verifiedPixels: 2_000_000n,
  };
  const job = {
    id: 'j1',
    status: 'RENDERING',
    createdAt: planned,
    completedAt: null,
    frames: [],
    shards: [],
    _count: { shards: 2 },
  } as unknown as Parameters<typeof toJobView>[0];

  it("gives a job's own view the ETA and cost of its row in the job list", () => {
    const summary = toJobSummary(row, now);
    // 2 MP x 100 samples = 2 units at 1000 wei; 6 tiles left at 30 s each
    expect(summary.cost).toEqual({ renderMs: 4000, wei: '2000' });
    expect(summary.etaMs).toBe(180_000);
    const view = toJobView(job, row, now);
    expect({ etaMs: view.etaMs, cost: view.cost }).toEqual({
      etaMs: summary.etaMs,
      cost: summary.cost,
    });
  });

  it('counts the check renders still to be decided, which the job waits for', () => {
    expect(toJobView(job, row, now).progress.checksOpen).toBe(2);
  });

  it('has no cost in wei without payouts, and no ETA once finished', () => {
    const view = toJobView(job, { ...row, status: 'COMPLETED', payment: 'NONE' }, now);
    expect(view.etaMs).toBeNull();
    expect(view.cost).toEqual({ renderMs: 4000, wei: null });
  });
});
