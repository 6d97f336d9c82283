// Blender's render log, e.g. "Fra:1 Mem:12.3M (Peak 15.0M) | Time:00:01.20 | Mem:1.2M, Peak:1.9M |
// Scene, ViewLayer | Sample 12/32" (Cycles) or "... | Rendering 3 / 64 samples" (Cycles X, EEVEE).

const PATTERNS = [/\|\s*Sample (\d+)\/(\d+)/, /Rendering (\d+) \/ (\d+) samples/];

/** The render's progress in 0..1 from one log line, or null when the line does not say. */
export function parseRenderProgress(line: string): number | null {
  for (const pattern of PATTERNS) {
    const m = pattern.exec(line);
    if (m) {
      const [done, total] = [Number(m[1]), Number(m[2])];
      if (total > 0 && done >= 0) return Math.min(1, done / total);
    }
  }
  return null;
}

/** Peak memory Blender reports ("Peak 15.0M" / "Peak:1.9G"), in MiB, or null. */
export function parsePeakMemoryMb(line: string): number | null {
  const m = /Peak[: ]\s*([\d.]+)([KMG])/.exec(line);
  if (!m) return null;
  const unit = { K: 1 / 1024, M: 1, G: 1024 }[m[2] as 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit * 10) / 10;
}
