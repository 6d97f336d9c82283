import type { ByteRange } from './blob-storage';

/**
 * One range of an HTTP Range header against a blob of `size` bytes (RFC 9110 14.2): null when
 * there is no header or it is not a single bytes range (the whole blob is sent, as allowed),
 * 'unsatisfiable' when it starts past the end (416). Resumed downloads send "bytes=N-".
 */
export function parseByteRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // suffix range: the last N bytes
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null;
  return { start, end };
}
