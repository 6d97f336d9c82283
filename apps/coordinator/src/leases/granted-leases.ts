import type { ActiveLease } from './leases.repository';

/** What a lease is about. Fixed when it is granted, so a replica can remember it. */
export type LeaseFacts = Pick<
  ActiveLease,
  'leaseId' | 'shardId' | 'jobId' | 'frameId' | 'nodeId' | 'width' | 'height'
>;

/**
 * The leases this replica granted, so that their completion does not read them back from the
 * database (one round trip of four per lease cycle). Only the facts that never change are kept:
 * whether the lease is still live is decided by the completing statement itself, and a lease
 * this replica did not grant (or has forgotten) is read from the database as before. Bounded:
 * the oldest entry goes when it is full.
 */
export class GrantedLeases {
  private readonly leases = new Map<string, LeaseFacts>();

  constructor(private readonly capacity = 20_000) {}

  remember(facts: LeaseFacts): void {
    if (this.leases.size >= this.capacity) {
      const oldest = this.leases.keys().next();
      if (!oldest.done) this.leases.delete(oldest.value);
    }
    this.leases.set(facts.leaseId, facts);
  }

  /** The lease's facts when this replica granted it to `nodeId`; someone else's: unknown here. */
  get(leaseId: string, nodeId: string): LeaseFacts | undefined {
    const facts = this.leases.get(leaseId);
    return facts?.nodeId === nodeId ? facts : undefined;
  }

  forget(leaseId: string): void {
    this.leases.delete(leaseId);
  }

  get size(): number {
    return this.leases.size;
  }
}
