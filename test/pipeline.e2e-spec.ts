// The core pipeline end to end: a real coordinator process, two real render-node agents with
// Blender, a 3-frame scene split into 2x2 overlapping tiles; every stitched frame must be
// pixel-identical to a direct `blender -b -f N` render. Once per storage driver.
import { join } from 'node:path';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { makeTestScene } from '@tessera/blender';
import { createApiKey, quietFarm, renderDirect, rgba } from './support/farm';
import { startS3Server } from './support/s3-server';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(300_000);

beforeAll(() => quietFarm());

let scene: string;
let apiKey: string;

beforeAll(async () => {
  scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 16,
    frames: 3,
  });
  apiKey = await createApiKey('pipeline');
});

afterAll(() => cleanupTmpDirs());

async function runPipeline(storageEnv: NodeJS.ProcessEnv) {
  const processes: FarmProcess[] = [];
  try {
    const coordinator: Coordinator = await startCoordinator({
      QUEUE_PREFIX: uniqueQueuePrefix('pipeline'),
      STORAGE_DIR: tmpDir(),
      NODE_ENV: 'test',
      ...storageEnv,
    });
    processes.push(coordinator);
    for (const n of [1, 2]) {
      const dir = tmpDir();
      processes.push(
        startAgent(coordinator.url, {
          TESSERA_NODE_KEY: join(dir, 'node.key'),
          TESSERA_WORK_DIR: join(dir, 'work'),
          TESSERA_THREADS: String(n),
          TESSERA_POLL_WAIT_MS: '5000',
        }),
      );
    }
    const client = new RequesterClient(coordinator.url, apiKey);
    const submitted = await client.submit(scene, { tilesX: 2, tilesY: 2, overlap: 6 });
    expect(submitted.status).toBe('RENDERING');
    const job = await client.waitForJob(submitted.id, { timeoutMs: 240_000 });
    expect(job.status).toBe('COMPLETED');
    expect(job.frames.map((f) => f.number)).toEqual([1, 2, 3]);

    const nodes = new Set(job.frames.flatMap((f) => f.tiles.map((t) => t.nodeId)));
    expect(nodes.size).toBe(2);
    // Verified before assembly: overlaps between the two nodes were compared and all agreed.
    expect(job.frames.flatMap((f) => f.tiles).every((t) => t.verified)).toBe(true);
    const verdicts = await client.verdicts(job.id);
    expect(
      verdicts.filter((v) => v.kind === 'OVERLAP' && v.outcome === 'PASS').length,
    ).toBeGreaterThan(0);
    expect(verdicts.filter((v) => v.outcome !== 'PASS')).toEqual([]);

    const directDir = tmpDir();
    for (const f of job.frames) {
      expect(f.tiles).toHaveLength(4);
      const stitched = await rgba(await client.frame(job.id, f.number));
      const direct = await rgba(await renderDirect(scene, f.number, directDir));
      expect([stitched.width, stitched.height]).toEqual([160, 90]);
      expect([direct.width, direct.height]).toEqual([160, 90]);
      expect(stitched.data.equals(direct.data)).toBe(true);
    }
    // Frames differ from each other: the comparison above is not comparing one still image.
    const [a, b] = await Promise.all([client.frame(job.id, 1), client.frame(job.id, 3)]);
    expect((await rgba(a)).data.equals((await rgba(b)).data)).toBe(false);
  } catch (e) {
    // the processes' own words are the quickest diagnosis of a failed end-to-end run
    for (const p of processes) console.error(`--- ${p.name}\n${p.output.slice(-30).join('\n')}`);
    throw e;
  } finally {
    for (const p of processes.reverse()) await p.stop();
  }
}

test('filesystem storage: frames match a direct Blender render pixel for pixel', async () => {
  await runPipeline({ STORAGE_DRIVER: 'fs' });
});

test('S3 storage: frames match a direct Blender render pixel for pixel', async () => {
  const s3 = await startS3Server();
  try {
    await runPipeline({
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    });
  } finally {
    await s3.stop();
  }
});
