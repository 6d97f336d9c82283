// Benchmark 1, tile overhead: one frame rendered as 4x4 overlapping tiles through the whole farm
// (coordinator + one render-node agent process, fs storage) against plain `blender -b -f 1` on
// the same number of threads. Trials are interleaved (plain/farm, then farm/plain, ...) and every
// trial uses a scene of its own (a different seed), so each farm run starts cold: scene download
// and scene load into the idle agent's spare Blender, as for the first tile of any new job.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { makeTestScene, SpareTileWorker } from '@tessera/blender';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { BenchEnv } from './lib/bench-env';
import { median, sleep, sum } from './lib/stats';

const run = promisify(execFile);

export const TILE_SCENE = { width: 640, height: 360, samples: 32, frames: 1 };
export const TILING = { tilesX: 4, tilesY: 4, overlap: 8 };
export const THREADS = 2;
export const TILE_TARGET_RATIO = 1.15;
/** the agent's own target: a warm agent (scene cached, Blender worker alive) */
export const WARM_TARGET_RATIO = 1.1;

export interface FarmTrial {
  /** submit request sent -> job COMPLETED (server's completedAt) */
  totalMs: number;
  /** submit request sent -> job planned (upload, hashing, Blender inspect, planning) */
  planningMs: number;
  /** job planned -> job COMPLETED: what the farm adds to rendering */
  renderPhaseMs: number;
  /** job planned -> first lease granted to the idle agent */
  dispatchMs: number;
  /** first lease granted -> first tile accepted, minus Blender's render call of that tile */
  coldStartMs: number;
  /** first lease granted -> first tile accepted */
  firstTileMs: number;
  /** Blender's render calls of all tiles, as reported by the agent */
  renderSumMs: number;
  /** after the first tile: mean time per tile not spent in Blender's render call */
  perTileOverheadMs: number;
  /** last tile accepted -> job COMPLETED (stitching, thumbnail) */
  assemblyMs: number;
  tiles: number;
}

export interface TileOverheadResult {
  trials: {
    seed: number;
    plainMs: number;
    /** Blender's start-up to waiting for a scene: what the agent's spare pays while idle */
    blenderStartMs: number;
    farm: FarmTrial;
    farmNoOverlap: FarmTrial;
    /** the same scene again right after: scene cached, the agent's Blender worker alive */
    farmWarm: FarmTrial;
    farmNoOverlapWarm: FarmTrial;
  }[];
  plainMedianMs: number;
  blenderStartMedianMs: number;
  farm: Record<keyof FarmTrial, number>;
  /** the same tiling without overlap margins: the farm's own overhead, apart from the margins */
  farmNoOverlap: Record<keyof FarmTrial, number>;
  farmWarm: Record<keyof FarmTrial, number>;
  farmNoOverlapWarm: Record<keyof FarmTrial, number>;
  /** median warm farm render phase / median plain, with and without the overlap margins */
  ratioWarm: number;
  ratioWarmNoOverlap: number;
  /** median farm (no overlap) render phase / median plain */
  ratioNoOverlap: number;
  /** pixels rendered with the margins / pixels of the frame */
  overlapPixels: number;
  /** median farm render phase / median plain */
  ratioRenderPhase: number;
  /** median farm submit->COMPLETED / median plain */
  ratioTotal: number;
}

export async function tileOverhead(
  env: BenchEnv,
  opts: { trials: number; log: (line: string) => void },
): Promise<TileOverheadResult> {
  const dir = join(env.workDir, 'tile-overhead');
  mkdirSync(dir, { recursive: true });
  const seeds = Array.from({ length: opts.trials }, (_, i) => 101 + i);
  opts.log(`generating ${seeds.length} scenes ${TILE_SCENE.width}x${TILE_SCENE.height}`);
  // the no-overlap runs get scenes of their own too, so that they also start cold
  const scenes = new Map<number, string>();
  for (const seed of [...seeds, ...seeds.map(noOverlapSeed)]) {
    scenes.set(
      seed,
      await makeTestScene(join(dir, `scene-${seed}.blend`), {
        ...TILE_SCENE,
        seed,
        blenderPath: env.blenderPath,
      }),
    );
  }

  const processes: FarmProcess[] = [];
  try {
    const coordinator: Coordinator = await startCoordinator(env.coordinatorEnv(), {
      name: 'coordinator',
    });
    processes.push(coordinator);
    const agent = startAgent(
      coordinator.url,
      {
        TESSERA_NODE_KEY: join(dir, 'agent', 'node.key'),
        TESSERA_WORK_DIR: join(dir, 'agent', 'work'),
        TESSERA_NODE_NAME: 'bench-agent',
        TESSERA_THREADS: String(THREADS),
        BLENDER_PATH: env.blenderPath,
      },
      { name: 'agent' },
    );
    processes.push(agent);
    await waitForLine(agent, /registered as/, 30_000);
    // An idle agent keeps a spare Blender started for the next new scene; every cold run below
    // uses one, and the next run starts only once its replacement is up, so that starting it
    // never competes with a measured run.
    let spares = 1;
    const spareReady = () => waitForLine(agent, /spare Blender ready/, 60_000, spares);
    await spareReady();
    const client = new RequesterClient(coordinator.url, env.apiKey.secret);

    const trials: TileOverheadResult['trials'] = [];
    const sides = ['plain', 'farm', 'farm0'] as const;
    for (const [i, seed] of seeds.entries()) {
      const trial = { seed, plainMs: 0 } as TileOverheadResult['trials'][number];
      trial.blenderStartMs = await blenderStart(env.blenderPath);
      // rotate the order of the three runs from trial to trial
      for (const k of sides.keys()) {
        const side = sides[(i + k) % sides.length];
        if (side === 'plain') {
          trial.plainMs = await plainRender(env.blenderPath, scenes.get(seed)!, dir, seed);
        } else if (side === 'farm') {
          trial.farm = await farmRender(env, client, scenes.get(seed)!, TILING.overlap);
          spares++;
          await spareReady();
          trial.farmWarm = await farmRender(env, client, scenes.get(seed)!, TILING.overlap);
        } else {
          const scene = scenes.get(noOverlapSeed(seed))!;
          trial.farmNoOverlap = await farmRender(env, client, scene, 0);
          spares++;
          await spareReady();
          trial.farmNoOverlapWarm = await farmRender(env, client, scene, 0);
        }
        await sleep(500); // let the other side's processes settle
      }
      trials.push(trial);
      opts.log(
        `trial ${i + 1}/${seeds.length}: plain ${(trial.plainMs / 1000).toFixed(2)} s, farm ` +
          `${(trial.farm.renderPhaseMs / 1000).toFixed(2)} s planned->completed ` +
          `(${(trial.farm.totalMs / 1000).toFixed(2)} s from submit), without overlap ` +
          `${(trial.farmNoOverlap.renderPhaseMs / 1000).toFixed(2)} s; warm ` +
          `${(trial.farmWarm.renderPhaseMs / 1000).toFixed(2)} s, warm without overlap ` +
          `${(trial.farmNoOverlapWarm.renderPhaseMs / 1000).toFixed(2)} s`,
      );
    }

    const plainMedianMs = median(trials.map((t) => t.plainMs));
    const blenderStartMedianMs = median(trials.map((t) => t.blenderStartMs));
    const medians = (pick: (t: TileOverheadResult['trials'][number]) => FarmTrial) => {
      const keys = Object.keys(pick(trials[0])) as (keyof FarmTrial)[];
      return Object.fromEntries(
        keys.map((k) => [k, median(trials.map((t) => pick(t)[k]))]),
      ) as Record<keyof FarmTrial, number>;
    };
    const farm = medians((t) => t.farm);
    const farmNoOverlap = medians((t) => t.farmNoOverlap);
    const farmWarm = medians((t) => t.farmWarm);
    const farmNoOverlapWarm = medians((t) => t.farmNoOverlapWarm);
    return {
      trials,
      plainMedianMs,
      blenderStartMedianMs,
      farm,
      farmNoOverlap,
      farmWarm,
      farmNoOverlapWarm,
      ratioWarm: farmWarm.renderPhaseMs / plainMedianMs,
      ratioWarmNoOverlap: farmNoOverlapWarm.renderPhaseMs / plainMedianMs,
      ratioRenderPhase: farm.renderPhaseMs / plainMedianMs,
      ratioTotal: farm.totalMs / plainMedianMs,
      ratioNoOverlap: farmNoOverlap.renderPhaseMs / plainMedianMs,
      overlapPixels: overlapPixelFactor(),
    };
  } finally {
    for (const p of processes.reverse()) await p.stop();
  }
}

/** A spare tile worker's start: Blender up and waiting for a scene, as the agent starts one. */
async function blenderStart(blenderPath: string): Promise<number> {
  const started = performance.now();
  const spare = await SpareTileWorker.spawn({ blenderPath });
  const ms = performance.now() - started;
  await spare.close();
  return ms;
}

/** `blender -b scene -t N -o ... -f 1`: the whole process, start-up and save included. */
async function plainRender(blender: string, scene: string, dir: string, seed: number) {
  const out = join(dir, `plain-${seed}-`);
  const started = performance.now();
  await run(
    blender,
    [
      '-b',
      scene,
      '--factory-startup',
      '--disable-autoexec',
      '-noaudio',
      '-t',
      String(THREADS),
      '-o',
      `${out}####`,
      '-F',
      'PNG',
      '-f',
      '1',
    ],
    { timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const ms = performance.now() - started;
  if (!existsSync(`${out}0001.png`)) throw new Error(`plain Blender wrote no frame for ${scene}`);
  return ms;
}

function noOverlapSeed(seed: number): number {
  return seed + 100;
}

/** Rendered pixels with margins over frame pixels, for the 4x4 grid (margins on inner edges). */
function overlapPixelFactor(): number {
  const span = (size: number, tiles: number) => {
    let sum = 0;
    for (let t = 0; t < tiles; t++) {
      const inner = (t > 0 ? 1 : 0) + (t < tiles - 1 ? 1 : 0);
      sum += size / tiles + inner * TILING.overlap;
    }
    return sum / size;
  };
  return span(TILE_SCENE.width, TILING.tilesX) * span(TILE_SCENE.height, TILING.tilesY);
}

async function farmRender(
  env: BenchEnv,
  client: RequesterClient,
  scene: string,
  overlap: number,
): Promise<FarmTrial> {
  const sentAt = Date.now();
  // one agent: nobody else could check its work, and this measures rendering, not verification
  const submitted = await client.submit(scene, {
    ...TILING,
    overlap,
    frameStart: 1,
    frameEnd: 1,
    verification: 'off',
  });
  if (submitted.status === 'FAILED') throw new Error(`job rejected: ${submitted.error}`);
  // The times below are the server's timestamps, so a slow poll loses nothing; polling the job
  // view ten times a second took CPU from the very render being measured.
  const job = await client.waitForJob(submitted.id, { timeoutMs: 300_000, intervalMs: 1000 });
  if (job.status !== 'COMPLETED') throw new Error(`job ${job.status}: ${job.error}`);
  const plannedAt = new Date(job.plannedAt as string).getTime();
  const completedAt = new Date(job.completedAt as string).getTime();

  const rows = await env.prisma.$queryRaw<
    { granted: Date; accepted: Date; renderMs: number }[]
  >`SELECT l.granted_at AS granted, r.created_at AS accepted, r.render_ms AS "renderMs"
    FROM results r JOIN leases l ON l.id = r.lease_id JOIN shards s ON s.id = r.shard_id
    WHERE s.job_id = ${job.id}::uuid ORDER BY r.created_at`;
  const firstGrant = await env.prisma.$queryRaw<{ t: Date }[]>`
    SELECT min(l.granted_at) AS t FROM leases l JOIN shards s ON s.id = l.shard_id
    WHERE s.job_id = ${job.id}::uuid`;
  const granted = firstGrant[0].t.getTime();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const firstTileMs = first.accepted.getTime() - granted;
  const rest = rows.slice(1);
  const restSpan = last.accepted.getTime() - first.accepted.getTime();
  return {
    totalMs: completedAt - sentAt,
    planningMs: plannedAt - sentAt,
    renderPhaseMs: completedAt - plannedAt,
    dispatchMs: granted - plannedAt,
    coldStartMs: firstTileMs - first.renderMs,
    firstTileMs,
    renderSumMs: sum(rows.map((r) => r.renderMs)),
    perTileOverheadMs: rest.length
      ? (restSpan - sum(rest.map((r) => r.renderMs))) / rest.length
      : NaN,
    assemblyMs: completedAt - last.accepted.getTime(),
    tiles: rows.length,
  };
}

async function waitForLine(
  p: FarmProcess,
  pattern: RegExp,
  timeoutMs: number,
  count = 1,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (p.output.filter((l) => pattern.test(l)).length < count) {
    if (p.proc.exitCode !== null) {
      throw new Error(`${p.name} exited:\n${p.output.slice(-20).join('\n')}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${p.name} did not print ${pattern}:\n${p.output.slice(-20).join('\n')}`);
    }
    await sleep(100);
  }
}
