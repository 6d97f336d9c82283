/** Where a lease's tile is uploaded: one object per lease, so no upload can overwrite another's. */
export function resultKey(jobId: string, shardId: string, leaseId: string): string {
  return `results/${jobId}/${shardId}/${leaseId}.png`;
}
