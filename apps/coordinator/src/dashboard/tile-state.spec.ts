import { tileState } from './tile-state';

describe('tileState', () => {
  it.each([
    [{ status: 'PENDING', verified: false, rejected: false }, 'queued'],
    [{ status: 'LEASED', verified: false, rejected: false }, 'leased'],
    [{ status: 'DONE', verified: false, rejected: false }, 'rendered'],
    [{ status: 'DONE', verified: true, rejected: false }, 'verified'],
    [{ status: 'PENDING', verified: false, rejected: true }, 'rejected'],
    [{ status: 'LEASED', verified: false, rejected: true }, 'rerendering'],
    [{ status: 'DONE', verified: true, rejected: true }, 'verified'],
  ])('%j is %s', (shard, state) => {
    expect(tileState(shard)).toBe(state);
  });
});
