import { loadConfig } from '../config/config';
import { EventsService } from './events.service';

describe('EventsService at shutdown', () => {
  it('ends open streams, and a stream that connects afterwards at once', () => {
    const events = new EventsService(loadConfig({ NODE_ENV: 'test' }));
    const open = jest.fn();
    events.subscribe(() => undefined, open);
    events.onModuleDestroy();
    expect(open).toHaveBeenCalledTimes(1);

    // A browser reconnecting while the replica stops would otherwise hold its HTTP server open.
    const late = jest.fn();
    const unsubscribe = events.subscribe(() => undefined, late);
    expect(late).toHaveBeenCalledTimes(1);
    expect(() => unsubscribe()).not.toThrow();
  });
});
