/**
 * Where a lease's tile is uploaded: one object per lease, so no upload can overwrite another's.
 * One folder per job, not per shard: the fs driver then makes a folder once per job instead of
 * once per upload.
 */
export function resultKey(jobId: string, shardId: string, leaseId: string): string {
  return `results/${jobId}/${shardId}.${leaseId}.png`;
}
