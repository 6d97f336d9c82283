/**
 * Exponential backoff with full jitter (a random delay up to the exponential step, capped): many
 * nodes that lost the same coordinator do not all come back in the same millisecond.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 15_000 };

export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  // never 0: a tight loop against a dead coordinator helps nobody
  return Math.max(policy.baseMs / 2, Math.round(random() * step));
}

/** Counts consecutive failures; reset() after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  get failures(): number {
    return this.attempt;
  }

  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
