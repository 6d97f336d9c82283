import { RecentUploads } from './recent-uploads';

describe('RecentUploads', () => {
  it('hands the bytes stored under a key to one taker, and forgets a key stored unkept', () => {
    const uploads = new RecentUploads({ RESULT_CACHE_BYTES: 1000 });
    uploads.stored('a', Buffer.from('first'));
    uploads.stored('a', Buffer.from('second'));
    expect(uploads.take('a')?.toString()).toBe('second');
    expect(uploads.take('a')).toBeUndefined();
    uploads.stored('b', Buffer.from('kept'));
    uploads.stored('b', null); // stored again, too large to keep: the old bytes are stale
    expect(uploads.take('b')).toBeUndefined();
  });

  it('keeps an upload only up to a few MB, whatever the cache holds in all', () => {
    expect(new RecentUploads({ RESULT_CACHE_BYTES: 1000 }).keepUpTo).toBe(1000);
    expect(new RecentUploads({ RESULT_CACHE_BYTES: 1024 ** 3 }).keepUpTo).toBe(8 * 1024 ** 2);
  });
});
