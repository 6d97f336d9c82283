import { EventLog } from './event-log';
import type { FarmEventEnvelope } from './farm-event';

const ev = (id: string): FarmEventEnvelope => ({
  id,
  at: new Date(0).toISOString(),
  event: { type: 'frame.assembled', jobId: 'j', frame: Number(id) },
});

describe('EventLog', () => {
  it('returns the events after a known id, in order', () => {
    const log = new EventLog(10);
    ['1', '2', '3', '4'].forEach((id) => log.push(ev(id)));
    expect(log.since('2')?.map((e) => e.id)).toEqual(['3', '4']);
    expect(log.since('4')).toEqual([]);
  });

  it('forgets beyond its capacity and then asks for a snapshot', () => {
    const log = new EventLog(3);
    ['1', '2', '3', '4', '5'].forEach((id) => log.push(ev(id)));
    expect(log.since('1')).toBeNull();
    expect(log.since('3')?.map((e) => e.id)).toEqual(['4', '5']);
    expect(log.since('nope')).toBeNull();
  });
});
