// The verification benchmarks of bench/VERIFICATION.md: detection per cheat class (per check on
// real renders, then per job), false rejections of honest work, the cost of verification and the
// speed of the comparison. `runVerificationBench()` returns the Markdown (bench/run.ts calls it);
// run alone it writes the file:
//
//   npm run build && node dist/bench/verification/run.js [--out=FILE]
//
// Needs Blender (CPU) on PATH or BLENDER_PATH; no database, Redis or coordinator. About 2-3
// minutes on 2 cores.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRUSTED_SCORE } from '@tessera/verification';
import { repoRoot } from '../../scripts/lib/repo-root';
import { costRows } from './cost';
import { measureDetection } from './detection';
import { measureHonest } from './honest';
import { EconomicsRow, economics, JobCell, jobCells, reputations } from './jobs';
import { describeMachine } from '../lib/machine';
import { BLENDER } from './render';
import { renderReport } from './report';
import { measureSpeed } from './speed';

export interface VerificationBenchOptions {
  /** progress lines; default console.log with a [verification] prefix */
  log?: (line: string) => void;
  /** secret crop checks re-rendered per suspect tile (default 16) */
  checksPerTile?: number;
}

export async function runVerificationBench(
  options: VerificationBenchOptions = {},
): Promise<string> {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  const log =
    options.log ?? ((line: string) => console.log(`[verification] ${elapsed()}: ${line}`));
  const machine = await describeMachine(BLENDER);
  const workDir = mkdtempSync(join(tmpdir(), 'tessera-verification-'));
  try {
    const detection = await measureDetection(workDir, options.checksPerTile ?? 16, log);
    const honest = await measureHonest(workDir, log);
    log('speed: decode + compare');
    const speed = await measureSpeed(detection.fullFrames);

    log('job-level detection: closed form and Monte Carlo');
    const rep = reputations();
    if (Math.abs(rep.trusted - TRUSTED_SCORE) > 1e-9)
      throw new Error(`trusted score ${rep.trusted}`);
    const scores = [0, TRUSTED_SCORE, 1];
    const jobs = new Map<string, JobCell[]>();
    detection.classes.forEach((c, i) => {
      jobs.set(c.cls.id, jobCells(c, scores, detection.grid, 1000 * (i + 1)));
    });
    const economicsRows = new Map<string, EconomicsRow[]>();
    for (const id of ['margin-aware', 'painted']) {
      const c = detection.classes.find((x) => x.cls.id === id)!;
      economicsRows.set(
        id,
        scores.flatMap((s) => [1, 100, 1000].map((n) => economics(c, s, n))),
      );
    }
    const cost = costRows([0, TRUSTED_SCORE]);

    return renderReport({
      machine,
      loadAtEnd: loadavg()[0],
      durationS: (Date.now() - started) / 1000,
      detection,
      jobs,
      economics: economicsRows,
      reputations: rep,
      honest,
      cost,
      speed,
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const outArg = process.argv.find((a) => a.startsWith('--out='));
  const out = outArg ? outArg.slice('--out='.length) : join(repoRoot(), 'bench', 'VERIFICATION.md');
  const markdown = await runVerificationBench();
  writeFileSync(out, markdown);
  console.log(`[verification] wrote ${out}`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
