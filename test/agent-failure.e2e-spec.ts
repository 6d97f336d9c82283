// A render node dies mid-render (the agent and its Blender, all at once): its lease lapses, the
// shard goes back to the pool, another node renders it, and the job still completes.
import { makeTestScene } from '@tessera/blender';
import { join } from 'node:path';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix, until } from './support/test-env';

jest.setTimeout(240_000);

beforeAll(() => quietFarm());

const prisma = testPrisma();
const processes: FarmProcess[] = [];

afterAll(async () => {
  for (const p of processes.reverse()) await p.stop('SIGKILL');
  await prisma.$disconnect();
  cleanupTmpDirs();
});

function agentEnv(): NodeJS.ProcessEnv {
  const dir = tmpDir();
  return {
    TESSERA_NODE_KEY: join(dir, 'node.key'),
    TESSERA_WORK_DIR: join(dir, 'work'),
    TESSERA_THREADS: '1',
    TESSERA_POLL_WAIT_MS: '5000',
  };
}

test('a node killed mid-render loses its lease to expiry and the job completes elsewhere', async () => {
  const coordinator: Coordinator = await startCoordinator({
    QUEUE_PREFIX: uniqueQueuePrefix('agent-failure'),
    STORAGE_DIR: tmpDir(),
    LEASE_TTL_MS: '4000',
    LEASE_SWEEP_MS: '250',
    NODE_ENV: 'test',
  });
  processes.push(coordinator);
  // Enough samples that a tile takes a few seconds: the kill lands inside the render.
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 256,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, await createApiKey('agent-failure'));
  // the survivor ends up rendering everything, so no other node could check its work
  const job = await client.submit(scene, { tilesX: 2, tilesY: 1, overlap: 4, verification: 'off' });

  const doomed = startAgent(coordinator.url, agentEnv(), { name: 'doomed' });
  processes.push(doomed);
  const lease = await until('the first lease', () =>
    prisma.lease.findFirst({ where: { shard: { jobId: job.id }, status: 'ACTIVE' } }),
  );
  // Kill the whole node while Blender renders the tile (several seconds at these samples): as
  // soon as the agent says so, not after a guessed delay that a fast machine outruns.
  await until('the render', async () => doomed.output.some((l) => l.endsWith(' rendering')));
  expect(await prisma.result.count({ where: { leaseId: lease.id } })).toBe(0);
  await doomed.stop('SIGKILL');

  processes.push(startAgent(coordinator.url, agentEnv(), { name: 'survivor' }));
  const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
  expect(done.status).toBe('COMPLETED');

  const history = await prisma.lease.findMany({
    where: { shardId: lease.shardId },
    orderBy: { grantedAt: 'asc' },
  });
  expect(history[0].id).toBe(lease.id);
  expect(history[0].status).toBe('EXPIRED');
  expect(history.at(-1)!.status).toBe('COMPLETED');
  expect(history.at(-1)!.nodeId).not.toBe(lease.nodeId);
  expect(await prisma.result.count({ where: { shardId: lease.shardId } })).toBe(1);
  expect(done.frames[0].status).toBe('DONE');
  expect((await client.frame(job.id, 1)).length).toBeGreaterThan(0);
});
