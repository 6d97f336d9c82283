// Calls to the coordinator. The session cookie authenticates them (see POST /api/v1/session).

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (!res.ok) {
    let message = res.statusText;
    try {
      const body = (await res.json()) as { message?: string | string[] };
      if (body.message)
        message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    } catch {
      // not JSON
    }
    if (res.status === 401) window.dispatchEvent(new CustomEvent('tessera:signed-out'));
    throw new HttpError(res.status, message);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export type TileState = 'queued' | 'leased' | 'rendered' | 'verified' | 'rejected' | 'rerendering';

export interface Progress {
  frames: { total: number; done: number };
  tiles: { total: number; done: number; verified: number };
  percent: number;
}

export interface JobSummary {
  id: string;
  status: string;
  error: string | null;
  owner: string;
  createdAt: string;
  completedAt: string | null;
  progress: Progress;
  etaMs: number | null;
  /** `wei` is null on a farm without payouts */
  cost: { renderMs: number; wei: string | null };
}

/** [shardId, x, y, state, nodeId, attempts, rejected] */
export type TileRow = [string, number, number, TileState, string | null, number, 0 | 1];

export interface JobGrid {
  id: string;
  status: string;
  error: string | null;
  owner: string;
  verification: string;
  createdAt: string;
  plannedAt: string | null;
  completedAt: string | null;
  scene: { resolution?: { width: number; height: number } } | null;
  tilesX: number;
  tilesY: number;
  frames: { number: number; status: string; completedAt: string | null; tiles: TileRow[] }[];
}

export interface Verdict {
  id: string;
  frame: number;
  kind: string;
  outcome: string;
  nodes: string[];
  results: string[];
  evidence: Record<string, unknown>;
  createdAt: string;
}

export interface TileDetail {
  shardId: string;
  frame: number;
  x: number;
  y: number;
  region: { x: number; y: number; width: number; height: number };
  state: TileState;
  verifiedAt: string | null;
  attempts: number;
  leases: {
    id: string;
    status: string;
    node: { id: string; address: string; name: string | null };
    grantedAt: string;
    endedAt: string | null;
    reason: string | null;
  }[];
  results: {
    id: string;
    nodeId: string;
    renderMs: number;
    createdAt: string;
    accepted: boolean;
  }[];
  verdicts: Verdict[];
}

export interface TimelineEntry {
  at: string;
  kind: string;
  /** the same milestone has the same key in the server's list and in live entries */
  key: string;
  text: string;
  frame?: number;
  txHash?: string;
}

export interface Timeline {
  /** the server's clock when it began reading */
  asOf: string;
  entries: TimelineEntry[];
  verdictCounts: { kind: string; outcome: string; count: number }[];
}

export interface NodeView {
  id: string;
  address: string;
  name: string | null;
  online: boolean;
  lastSeenAt: string;
  capabilities: Record<string, unknown> | null;
  current: { jobId: string; frameNumber: number; tileX: number; tileY: number; kind: string }[];
  throughput: { windowMs: number; tiles: number; renderMs: number };
  tilesTotal: number;
  reputation: { score: number; failedChecks: number };
  blocklists: { jobId: string; reason: string; createdAt: string }[];
  earnings: string | null;
}

/** One settlement, slash or refund, as GET /api/v1/payouts lists it (`items`, newest first). */
export interface Payout {
  id: string;
  kind: 'settled' | 'slashed' | 'refunded';
  jobId: string;
  /** the paid or slashed node; null for a refund to the requester */
  nodeId: string | null;
  /** the node's name, as its operator set it */
  nodeName: string | null;
  /** payee, slashed operator or refunded requester */
  address: string;
  amountWei: string;
  /** null until the transaction is signed */
  txHash: string | null;
  /** the step's earlier signatures, replaced by higher fees (one of them may be the one mined) */
  replacedTxHashes: string[];
  blockNumber: number | null;
  status: 'pending' | 'sent' | 'confirmed' | 'failed' | null;
  createdAt: string;
}

export interface Me {
  name: string;
  admin: boolean;
}
