// The live events of the farm, as published on Redis and sent to browsers over SSE.
// A declaration file (types only) so that the browser code, compiled by its own tsconfig, shares
// the exact shapes without emitting a module of its own.

export type LeaseEndStatus = 'FAILED' | 'RELEASED' | 'EXPIRED';
export type VerdictKindName = 'OVERLAP' | 'CROP' | 'RINGER' | 'ARBITRATION' | 'FRAUD';
export type VerdictOutcomeName = 'PASS' | 'FAIL' | 'UNRESOLVED';

export type FarmEvent =
  | { type: 'job.planned'; jobId: string; frames: number; tiles: number }
  | {
      type: 'job.finished';
      jobId: string;
      status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
      error?: string;
    }
  /** Something changed too broadly to describe tile by tile (a conviction): re-read the snapshot. */
  | { type: 'job.changed'; jobId: string; reason: string }
  | {
      type: 'lease.granted';
      jobId: string;
      shardId: string;
      leaseId: string;
      nodeId: string;
      frame: number;
    }
  | {
      type: 'lease.completed';
      jobId: string;
      shardId: string;
      leaseId: string;
      nodeId: string;
      renderMs: number;
    }
  | {
      type: 'lease.ended';
      jobId: string;
      shardId: string;
      leaseId: string;
      status: LeaseEndStatus;
      reason?: string;
    }
  | { type: 'tiles.verified'; jobId: string; frame: number; shardIds: string[] }
  | {
      type: 'verdict';
      jobId: string;
      frame: number;
      kind: VerdictKindName;
      outcome: VerdictOutcomeName;
      nodes: string[];
      results: string[];
    }
  | { type: 'frame.assembled'; jobId: string; frame: number }
  /** Payouts (issue 4): settlements, slashes and refunds as they land on chain. */
  | {
      type: 'payout';
      kind: 'settled' | 'slashed' | 'refunded';
      jobId?: string;
      nodeId?: string;
      amountWei: string;
      txHash?: string;
    };

export type FarmEventType = FarmEvent['type'];

/** What travels on the wire: the event with an id (for Last-Event-ID) and a timestamp. */
export interface FarmEventEnvelope {
  id: string;
  at: string;
  event: FarmEvent;
}
