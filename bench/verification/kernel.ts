// Honest renders that are not bit-identical: the same scene, frame, seed and samples rendered with
// Cycles' SSE4.1 CPU kernel instead of AVX2 (blender-scripts/make_verification_fixtures.py). The
// closest thing to another device class this CPU-only machine has; the perceptual comparison
// must accept these.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blenderScriptPath, safeBlenderCommand } from '@tessera/blender';
import type { PixelRegion } from '@tessera/protocol';
import { decodePng, RgbaImage } from '@tessera/verification';
import { BLENDER } from './render';

export interface KernelRequest {
  frame: number;
  region: PixelRegion;
  threads: number;
}

/** Renders every request with the SSE4.1 kernel in one Blender process; checks the kernel used. */
export async function renderWithSse41(
  blend: string,
  dir: string,
  requests: KernelRequest[],
): Promise<RgbaImage[]> {
  const sandbox = mkdtempSync(join(dir, 'sse41-'));
  try {
    const outs = requests.map((_, i) => join(sandbox, `k${i}.png`));
    const reqFile = join(sandbox, 'requests.json');
    writeFileSync(reqFile, JSON.stringify(requests.map((r, i) => ({ ...r, out: outs[i] }))));
    const cmd = safeBlenderCommand({
      blenderPath: BLENDER,
      script: blenderScriptPath('make_verification_fixtures.py'),
      scriptArgs: ['--blend', blend, '--requests', reqFile, '--kernel', 'SSE41'],
      sandboxDir: sandbox,
    });
    // --debug-cycles makes Cycles log the kernel it loaded ("Using SSE4.1 CPU kernels")
    cmd.args.splice(cmd.args.indexOf('--python'), 0, '--debug-cycles');
    const child = spawn(cmd.command, cmd.args, { env: cmd.env, cwd: sandbox });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    const done = log
      .split('\n')
      .filter((l) => l.startsWith('@@TESSERA@@ '))
      .map((l) => JSON.parse(l.slice(12)) as { ok?: boolean })
      .filter((m) => m.ok === true);
    if (code !== 0 || done.length !== requests.length) {
      throw new Error(`SSE4.1 renders failed (exit ${code}):\n${log.slice(-2000)}`);
    }
    const used = [...new Set([...log.matchAll(/Using (\S+) CPU kernels/g)].map((m) => m[1]))];
    if (used.join(',') !== 'SSE4.1') {
      throw new Error(`asked Cycles for SSE4.1 kernels, it used ${used.join(',') || 'unknown'}`);
    }
    return Promise.all(outs.map(async (f) => decodePng(await readFile(f))));
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}
