/**
 * The states a tile shows on the dashboard grid, derived from the shard and its history: a tile
 * whose earlier result was thrown away (a lost arbitration, a convicted node) is `rejected` until
 * someone leases it again (`rerendering`), and keeps the `rejected` mark once redone.
 */
export type TileState = 'queued' | 'leased' | 'rendered' | 'verified' | 'rejected' | 'rerendering';

export function tileState(s: {
  status: 'PENDING' | 'LEASED' | 'DONE' | string;
  verified: boolean;
  rejected: boolean;
}): TileState {
  if (s.status === 'DONE') return s.verified ? 'verified' : 'rendered';
  if (s.status === 'LEASED') return s.rejected ? 'rerendering' : 'leased';
  return s.rejected ? 'rejected' : 'queued';
}
