export type BlendFileErrorCode =
  'EMPTY' | 'NOT_BLEND' | 'TRUNCATED' | 'CORRUPT' | 'TOO_LARGE' | 'UNREADABLE';

/** A file rejected by the structural check, with a message fit to show the uploader. */
export class BlendFileError extends Error {
  override readonly name = 'BlendFileError';

  constructor(
    readonly code: BlendFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Block codes are 4 ASCII bytes padded with NULs ("DATA", "OB\0\0"); show them safely. */
export function printableCode(code: Buffer): string {
  let out = '';
  for (const b of code) {
    if (b === 0) continue;
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
