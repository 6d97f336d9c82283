import { assertValidKey, contentTypeForKey, InvalidBlobKeyError, isValidKey } from './blob-storage';

describe('assertValidKey', () => {
  it.each([
    `scenes/${'ab12'.repeat(16)}.blend`,
    'results/0b8c5a52-3d53-4c2e-9d57-1f0f7c1a9e01/6a1e0f3e-7c1b-4d3e-8f3a-2b9c4d5e6f70/9f1e2d3c-4b5a-4687-9a8b-7c6d5e4f3a21.png',
    'frames/0b8c5a52-3d53-4c2e-9d57-1f0f7c1a9e01/12.png',
    'thumbs/0b8c5a52-3d53-4c2e-9d57-1f0f7c1a9e01/12.png',
  ])('accepts %s', (key) => {
    expect(() => assertValidKey(key)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['no prefix', 'file.png'],
    ['leading slash', '/scenes/a.blend'],
    ['trailing slash', 'scenes/'],
    ['empty segment', 'scenes//a.blend'],
    ['dot-dot', 'scenes/../secret'],
    ['dot-dot at the end', 'scenes/..'],
    ['hidden segment', 'scenes/.tmp'],
    ['the temp dir', '.tmp/abc'],
    ['upper case', 'scenes/A.blend'],
    ['backslash', 'scenes\\a.blend'],
    ['space', 'scenes/a b.blend'],
    ['percent', 'scenes/a%2f.blend'],
    ['newline', 'scenes/a\n.blend'],
    ['too long', `scenes/${'a'.repeat(600)}`],
    ['too deep', 'a/b/c/d/e/f/g/h/i'],
  ])('rejects %s', (_why, key) => {
    expect(() => assertValidKey(key)).toThrow(InvalidBlobKeyError);
    expect(isValidKey(key)).toBe(false);
  });
});

describe('contentTypeForKey', () => {
  it('maps known extensions and falls back to octet-stream', () => {
    expect(contentTypeForKey('frames/a/1.png')).toBe('image/png');
    expect(contentTypeForKey('scenes/abc.blend')).toBe('application/octet-stream');
  });
});
