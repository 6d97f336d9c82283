import { bytes32ToJobId, jobIdToBytes32 } from './job-id';

describe('job ids on chain', () => {
  const uuid = '550e8400-e29b-41d4-a716-446655440000';

  it('left-pads the UUID hex to 32 bytes', () => {
    expect(jobIdToBytes32(uuid)).toBe(`0x${'0'.repeat(32)}550e8400e29b41d4a716446655440000`);
    expect(jobIdToBytes32(uuid)).toHaveLength(66);
  });

  it('lowercases, so both spellings of a UUID map to one job', () => {
    expect(jobIdToBytes32(uuid.toUpperCase())).toBe(jobIdToBytes32(uuid));
  });

  it('round-trips', () => {
    for (const id of [
      uuid,
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-4fff-bfff-ffffffffffff',
    ]) {
      expect(bytes32ToJobId(jobIdToBytes32(id))).toBe(id);
    }
    expect(bytes32ToJobId(jobIdToBytes32(uuid).toUpperCase().replace('0X', '0x'))).toBe(uuid);
  });

  it('rejects what is not a UUID', () => {
    for (const bad of ['', 'job-1', uuid.replace(/-/g, ''), `${uuid}0`, uuid.replace('5', 'g')]) {
      expect(() => jobIdToBytes32(bad)).toThrow(/must be a UUID/);
    }
  });

  it('rejects bytes32 values that no UUID maps to', () => {
    expect(() => bytes32ToJobId(`0x${'1'.repeat(64)}`)).toThrow(/not a job id/);
    expect(() => bytes32ToJobId('0x550e8400e29b41d4a716446655440000')).toThrow(/not a job id/);
    expect(() => bytes32ToJobId(`${'0'.repeat(32)}550e8400e29b41d4a716446655440000`)).toThrow(
      /not a job id/,
    );
  });
});
