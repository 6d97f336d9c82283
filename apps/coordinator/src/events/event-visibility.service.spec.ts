import type { Requester } from '../auth/guards';
import { EventVisibilityService } from './event-visibility.service';
import type { EventsRepository } from './events.repository';
import type { FarmEvent } from './farm-event';

describe('EventVisibilityService', () => {
  const owners: Record<string, string> = { 'job-a': 'key-a', 'job-b': 'key-b' };
  let lookups = 0;
  const repo = {
    jobOwner: async (jobId: string) => {
      lookups++;
      return owners[jobId] ?? null;
    },
  } as unknown as EventsRepository;
  const alice: Requester = { apiKeyId: 'key-a', name: 'alice', admin: false };
  const admin: Requester = { apiKeyId: 'key-z', name: 'ops', admin: true };
  const frame = (jobId: string): FarmEvent => ({ type: 'frame.assembled', jobId, frame: 1 });
  const payout: FarmEvent = { type: 'payout', kind: 'settled', nodeId: 'n', amountWei: '1' };

  it('shows requesters the events of their own jobs only, admins everything', async () => {
    const v = new EventVisibilityService(repo);
    expect(await v.canSee(alice, frame('job-a'))).toBe(true);
    expect(await v.canSee(alice, frame('job-b'))).toBe(false);
    expect(await v.canSee(alice, frame('no-such-job'))).toBe(false);
    expect(await v.canSee(alice, payout)).toBe(false);
    expect(await v.canSee(admin, frame('job-b'))).toBe(true);
    expect(await v.canSee(admin, payout)).toBe(true);
  });

  it('narrows a stream to one job, and looks each owner up once', async () => {
    const v = new EventVisibilityService(repo);
    lookups = 0;
    expect(await v.canSee(admin, frame('job-a'), 'job-b')).toBe(false);
    expect(await v.canSee(alice, frame('job-a'), 'job-a')).toBe(true);
    expect(await v.canSee(alice, frame('job-a'), 'job-a')).toBe(true);
    expect(lookups).toBe(1);
  });
});
