// The job page's timeline, built from what the database knows (a page opened late, or re-reading
// after a resync, shows the same story the live events told). Every entry has a `key` that the
// browser derives the same way from the matching live event, so an event that the snapshot already
// holds is not shown twice (apps/coordinator/web/src/timeline.ts).

export interface TimelineEntry {
  at: Date;
  kind: string;
  key: string;
  text: string;
  frame?: number;
  txHash?: string;
}

/** One frame's work tiles: when the first was leased, how many are verified and when the last was. */
export interface FrameMilestones {
  frame: number;
  tiles: number;
  verified: number;
  firstLeasedAt: Date | null;
  lastVerifiedAt: Date | null;
  completedAt: Date | null;
}

export interface TimelineFacts {
  job: { createdAt: Date; plannedAt: Date | null; completedAt: Date | null; status: string };
  frames: FrameMilestones[];
  /** the notable verdicts only: failed comparisons, arbitrations, convictions */
  verdicts: {
    kind: string;
    outcome: string;
    frameNumber: number;
    resultA: string | null;
    resultB: string | null;
    createdAt: Date;
  }[];
  /** settled, slashed and refunded ledger rows (what moved on chain) */
  payouts: {
    kind: string;
    nodeId: string | null;
    amountWei: string;
    txHash: string | null;
    createdAt: Date;
  }[];
}

export function jobTimeline(facts: TimelineFacts): TimelineEntry[] {
  const { job, frames } = facts;
  const entries: TimelineEntry[] = [
    { at: job.createdAt, kind: 'submitted', key: 'submitted', text: 'job submitted' },
  ];
  if (job.plannedAt) {
    const tiles = frames.reduce((n, f) => n + f.tiles, 0);
    entries.push({
      at: job.plannedAt,
      kind: 'planned',
      key: 'planned',
      text: `planned: ${frames.length} frames, ${tiles} tiles`,
    });
  }
  // Leases: one entry per frame, at its first lease. A 300-frame job of 16 tiles grants 4,800 leases
  // and more (re-renders, checks); one line per frame says when each frame started, and with its
  // `assembled` line how long it took. Re-renders show up as the verdicts that caused them.
  for (const f of frames) {
    if (f.firstLeasedAt)
      entries.push({
        at: f.firstLeasedAt,
        kind: 'leased',
        key: `leased:${f.frame}`,
        text: 'first tile leased',
        frame: f.frame,
      });
    // One per frame too, at its latest verification, counting what is verified now.
    if (f.verified > 0 && f.lastVerifiedAt)
      entries.push({
        at: f.lastVerifiedAt,
        kind: 'verified',
        key: `verified:${f.frame}`,
        text: verifiedText(f.verified, f.tiles),
        frame: f.frame,
      });
    if (f.completedAt)
      entries.push({
        at: f.completedAt,
        kind: 'assembled',
        key: `assembled:${f.frame}`,
        text: 'frame assembled',
        frame: f.frame,
      });
  }
  for (const v of facts.verdicts) {
    const results = [v.resultA, v.resultB].filter((r): r is string => !!r);
    entries.push({
      at: v.createdAt,
      kind: verdictKind(v.kind, v.outcome),
      key: verdictKey(v.kind, v.frameNumber, results),
      text: `${v.kind.toLowerCase()} ${v.outcome.toLowerCase()}`,
      frame: v.frameNumber,
    });
  }
  for (const p of facts.payouts) {
    const kind = p.kind.toLowerCase();
    entries.push({
      at: p.createdAt,
      kind: 'paid',
      key: payoutKey(kind, p.nodeId, p.amountWei),
      text: payoutText(kind, p.nodeId, p.amountWei),
      ...(p.txHash ? { txHash: p.txHash } : {}),
    });
  }
  if (job.completedAt)
    entries.push({
      at: job.completedAt,
      kind: 'finished',
      key: 'finished',
      text: `job ${job.status.toLowerCase()}`,
    });
  // stable: entries at the same instant keep the order above
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime());
}

// The wording and keys below are mirrored by the browser's live entries (web/src/timeline.ts).

export function verifiedText(verified: number, tiles: number): string {
  return `${verified}/${tiles} tiles verified`;
}

export function verdictKind(kind: string, outcome: string): string {
  if (kind === 'FRAUD') return 'convicted';
  if (kind === 'ARBITRATION') return 'arbitration';
  return outcome === 'PASS' ? 'verified' : 'mismatch';
}

export function verdictKey(kind: string, frame: number, results: string[]): string {
  return `verdict:${kind}:${frame}:${results.join(',')}`;
}

export function payoutKey(kind: string, nodeId: string | null, amountWei: string): string {
  return `paid:${kind}:${nodeId ?? '-'}:${amountWei}`;
}

export function payoutText(kind: string, nodeId: string | null, amountWei: string): string {
  const node = nodeId ? nodeId.slice(0, 8) : '–';
  if (kind === 'refunded') return `refunded ${amountWei} wei to the requester`;
  if (kind === 'slashed') return `slashed ${amountWei} wei from node ${node}`;
  return `settled ${amountWei} wei to node ${node}`;
}
