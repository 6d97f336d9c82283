import { GrantedLeases, LeaseFacts } from './granted-leases';

const facts = (leaseId: string, nodeId = 'node-a'): LeaseFacts => ({
  leaseId,
  shardId: `shard-${leaseId}`,
  jobId: 'job',
  frameId: 'frame',
  nodeId,
  width: 16,
  height: 9,
});

describe('GrantedLeases', () => {
  it('gives a lease back to the node it was granted to, and to no other', () => {
    const granted = new GrantedLeases();
    granted.remember(facts('l1', 'node-a'));
    expect(granted.get('l1', 'node-a')).toEqual(facts('l1', 'node-a'));
    expect(granted.get('l1', 'node-b')).toBeUndefined();
    expect(granted.get('l2', 'node-a')).toBeUndefined();
  });

  it('forgets a lease once it ended', () => {
    const granted = new GrantedLeases();
    granted.remember(facts('l1'));
    granted.forget('l1');
    expect(granted.get('l1', 'node-a')).toBeUndefined();
    expect(granted.size).toBe(0);
  });

  it('drops the oldest lease when full', () => {
    const granted = new GrantedLeases(2);
    for (const id of ['l1', 'l2', 'l3']) granted.remember(facts(id));
    expect(granted.size).toBe(2);
    expect(granted.get('l1', 'node-a')).toBeUndefined();
    expect(granted.get('l2', 'node-a')).toBeDefined();
    expect(granted.get('l3', 'node-a')).toBeDefined();
  });
});
