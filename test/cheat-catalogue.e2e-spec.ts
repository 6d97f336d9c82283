// One cheater among honest nodes, for every cheat in the catalogue: the cheater is convicted, its
// work is redone by honest nodes, and the stitched frames still equal a direct Blender render.
import { makeTestScene } from '@tessera/blender';
import { Wallet } from 'ethers';
import { join } from 'node:path';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { cheatCatalogue, registeredNode, startCheater } from './support/cheats';
import { createApiKey, quietFarm, renderDirect, rgba, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(600_000);

beforeAll(() => quietFarm());

const SAMPLES = 16;
const OVERLAP = 4;
const prisma = testPrisma();
const processes: FarmProcess[] = [];
let coordinator: Coordinator;
let client: RequesterClient;
const direct = new Map<number, Buffer>();
const directFiles = new Map<number, string>();

beforeAll(async () => {
  coordinator = await startCoordinator({
    QUEUE_PREFIX: uniqueQueuePrefix('cheats'),
    STORAGE_DIR: tmpDir(),
    NODE_ENV: 'test',
  });
  processes.push(coordinator);
  client = new RequesterClient(coordinator.url, await createApiKey('cheats'));
  for (const n of [1, 2]) {
    const work = tmpDir();
    processes.push(
      startAgent(
        coordinator.url,
        {
          TESSERA_NODE_KEY: join(work, 'node.key'),
          TESSERA_WORK_DIR: join(work, 'work'),
          TESSERA_THREADS: String(n),
          TESSERA_POLL_WAIT_MS: '5000',
        },
        { name: `honest-${n}` },
      ),
    );
  }
});

afterAll(async () => {
  for (const p of processes.reverse()) await p.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

const cheats = Object.entries(
  cheatCatalogue({ overlap: OVERLAP, samples: SAMPLES, earlierRenders: directFiles }),
);

/** A fresh scene per cheat, so that no node has it loaded yet and the cheater gets its share. */
async function freshScene(seed: number): Promise<string> {
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 128,
    height: 72,
    samples: SAMPLES,
    frames: 2,
    seed,
  });
  const dir = tmpDir();
  for (const frame of [1, 2]) {
    directFiles.set(frame, await renderDirect(scene, frame, dir));
    direct.set(frame, (await rgba(directFiles.get(frame)!)).data);
  }
  return scene;
}

test.each(cheats.map(([name, tweaks], i) => [name, tweaks, i + 1] as const))(
  '%s: caught, redone, frames still exact',
  async (_, tweaks, seed) => {
    const scene = await freshScene(seed);
    const wallet = Wallet.createRandom();
    const cheater = startCheater(coordinator.url, wallet, tweaks);
    try {
      // The cheater is up first, so it gets its share of the work.
      const node = await registeredNode(prisma, wallet.address);
      const submitted = await client.submit(scene, {
        tilesX: 3,
        tilesY: 3,
        overlap: OVERLAP,
        verification: 'paranoid',
      });
      const job = await client.waitForJob(submitted.id, { timeoutMs: 300_000, intervalMs: 500 });
      expect(job.status).toBe('COMPLETED');

      const rendered = await prisma.result.count({
        where: { nodeId: node.id, shard: { jobId: job.id } },
      });
      expect(rendered).toBeGreaterThan(0);
      const verdicts = await client.verdicts(job.id);
      const fraud = verdicts.filter((v) => v.kind === 'FRAUD');
      expect(fraud.map((v) => v.nodes[0])).toEqual([node.id]);
      // Its work is gone: no accepted tile of the job is the cheater's.
      const kept = await prisma.shard.count({
        where: { jobId: job.id, result: { nodeId: node.id } },
      });
      expect(kept).toBe(0);
      for (const f of job.frames) {
        expect(
          (await rgba(await client.frame(job.id, f.number))).data.equals(direct.get(f.number)!),
        ).toBe(true);
      }
    } finally {
      await cheater.stop();
    }
  },
);
