import { BlenderTileWorker, makeTestScene } from '@tessera/blender';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BenchmarkScore, NodeCapabilities, probeCapabilities } from '../../agent/capabilities';
import { AgentConfig } from '../../config/agent-config';

/** The benchmark scene: small enough for a CPU in seconds, the same everywhere. */
const SCENE = { width: 320, height: 180, samples: 32, frames: 1, seed: 1 };

interface StoredBenchmark extends BenchmarkScore {
  blenderVersion: string;
  device: string;
  threads: number | null;
}

function file(config: AgentConfig): string {
  return join(config.workDir, 'benchmark.json');
}

/**
 * A short render of a fixed scene on every chosen device; the score is million pixel-samples per
 * second (summed over GPUs). Kept in the work folder and sent at registration.
 */
export async function runBenchmark(
  config: AgentConfig,
  log: (line: string) => void,
): Promise<StoredBenchmark> {
  const caps = await probeCapabilities({
    blenderPath: config.blenderPath,
    device: config.device,
    threads: config.threads,
    workDir: config.workDir,
  });
  const dir = join(config.workDir, 'benchmark');
  await mkdir(dir, { recursive: true });
  const scene = await makeTestScene(join(dir, 'scene.blend'), {
    ...SCENE,
    blenderPath: config.blenderPath,
  });
  let score = 0;
  let renderMs = 0;
  for (const slot of caps.slots) {
    const worker = await BlenderTileWorker.start(scene, {
      blenderPath: config.blenderPath,
      threads: config.threads,
      device: slot.backend,
      deviceId: slot.deviceId,
    });
    try {
      const region = { x: 0, y: 0, width: SCENE.width, height: SCENE.height };
      const out = join(dir, `${slot.id.replace(/\W/g, '_')}.png`);
      await worker.render({ frame: 1, region, out }); // warm-up: kernels, BVH, textures
      const { renderMs: ms } = await worker.render({ frame: 1, region, out, seed: 2 });
      const slotScore = (SCENE.width * SCENE.height * SCENE.samples) / (ms * 1000);
      log(`${slot.id} (${slot.name}): ${ms.toFixed(0)} ms, score ${slotScore.toFixed(2)}`);
      score += slotScore;
      renderMs = Math.max(renderMs, ms);
    } finally {
      await worker.close();
    }
  }
  const result: StoredBenchmark = {
    score: Math.round(score * 100) / 100,
    renderMs: Math.round(renderMs),
    at: new Date().toISOString(),
    blenderVersion: caps.blenderVersion,
    device: config.device,
    threads: config.threads ?? null,
  };
  await writeFile(file(config), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** The stored score, when it was measured with this Blender and device choice. */
export async function readBenchmark(
  config: AgentConfig,
  caps: NodeCapabilities,
): Promise<BenchmarkScore | undefined> {
  try {
    const stored = JSON.parse(await readFile(file(config), 'utf8')) as StoredBenchmark;
    if (stored.blenderVersion !== caps.blenderVersion || stored.device !== config.device) return;
    return { score: stored.score, renderMs: stored.renderMs, at: stored.at };
  } catch {
    return undefined;
  }
}
