// Generates the small deterministic Cycles scene of blender-scripts/make_test_scene.py
// (tests, benchmarks, the demo).
import { resolve } from 'node:path';
import { BlenderRunOptions } from './blender-command';
import { BlenderProcess, describeExit } from './blender-process';

export interface TestSceneOptions extends BlenderRunOptions {
  width?: number;
  height?: number;
  samples?: number;
  frames?: number;
  seed?: number;
  /** leave the camera out (an invalid scene) */
  noCamera?: boolean;
  /** texture an object with an external image that does not exist */
  missingImage?: boolean;
  /** texture an object with this external (not packed) image path */
  externalImage?: string;
  /** save compressed (zstd in Blender 3.0+) */
  compress?: boolean;
  /** add Python (a text block run on load, a scripted driver) that appends to this file if run */
  hostileMarker?: string;
  timeoutMs?: number;
}

export async function makeTestScene(out: string, opts: TestSceneOptions = {}): Promise<string> {
  const path = resolve(out);
  const args = ['--out', path];
  for (const key of ['width', 'height', 'samples', 'frames', 'seed'] as const) {
    const v = opts[key];
    if (v !== undefined) args.push(`--${key}`, String(v));
  }
  if (opts.noCamera) args.push('--no-camera');
  if (opts.missingImage) args.push('--missing-image');
  if (opts.externalImage !== undefined) args.push('--external-image', opts.externalImage);
  if (opts.compress) args.push('--compress');
  if (opts.hostileMarker !== undefined) args.push('--hostile-marker', opts.hostileMarker);

  let ok = false;
  const proc = await BlenderProcess.spawn({
    ...opts,
    script: 'make_test_scene.py',
    scriptArgs: args,
    onMessage: (m) => (ok ||= m.ok === true),
  });
  const timer = setTimeout(() => proc.kill('timeout'), opts.timeoutMs ?? 60_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  if (!ok || exit.code !== 0) {
    throw new Error(
      `make_test_scene.py failed: Blender ${describeExit(exit)}\n${proc.outputTail()}`,
    );
  }
  return path;
}
