import { parseByteRange } from './byte-range';

describe('parseByteRange', () => {
  it('reads the ranges a resumed download sends', () => {
    expect(parseByteRange('bytes=100-', 1000)).toEqual({ start: 100, end: 999 });
    expect(parseByteRange('bytes=0-9', 1000)).toEqual({ start: 0, end: 9 });
    expect(parseByteRange('bytes=990-2000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseByteRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 });
  });

  it('sends the whole blob for no or unsupported ranges', () => {
    expect(parseByteRange(undefined, 1000)).toBeNull();
    expect(parseByteRange('bytes=0-1,5-6', 1000)).toBeNull();
    expect(parseByteRange('items=1-2', 1000)).toBeNull();
    expect(parseByteRange('bytes=9-3', 1000)).toBeNull();
  });

  it('answers 416 to a range past the end', () => {
    expect(parseByteRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-0', 1000)).toBe('unsatisfiable');
  });
});
