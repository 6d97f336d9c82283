import { parseMarkerLine } from './marker';

describe('parseMarkerLine', () => {
  const token = 'abc123';

  it('reads a message carrying the token and drops the token', () => {
    expect(parseMarkerLine(`@@TESSERA@@ {"id":"r1","ok":true,"token":"abc123"}`, token)).toEqual({
      id: 'r1',
      ok: true,
    });
  });

  it('finds the marker after stray output on the same line', () => {
    expect(parseMarkerLine(`Fra:1 @@TESSERA@@ {"ok":true,"token":"abc123"}`, token)).toEqual({
      ok: true,
    });
  });

  it.each([
    ['plain log', 'Fra:1 Mem:10M | Sample 1/16'],
    ['no token (a scene named like a marker)', '@@TESSERA@@ {"id":"r1","ok":true}'],
    ['wrong token', '@@TESSERA@@ {"ok":true,"token":"guess"}'],
    ['not JSON', '@@TESSERA@@ {"ok":tr'],
    ['not an object', '@@TESSERA@@ [1,2]'],
  ])('ignores %s', (_name, line) => {
    expect(parseMarkerLine(line, token)).toBeNull();
  });
});
