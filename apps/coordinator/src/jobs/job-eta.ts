/**
 * Estimated milliseconds until a job's tiles are all done, from the pace so far since planning.
 * Null when it cannot be told yet (nothing done) or no longer matters (nothing left).
 */
export function estimateRemainingMs(
  tiles: { total: number; done: number },
  plannedAt: Date | null,
  now: Date,
): number | null {
  const left = tiles.total - tiles.done;
  if (!plannedAt || tiles.done <= 0 || left <= 0) return null;
  const elapsed = now.getTime() - plannedAt.getTime();
  if (elapsed <= 0) return null;
  return Math.round((elapsed / tiles.done) * left);
}
