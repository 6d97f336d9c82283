// Redis loses its queues (a restart without persistence, a flush): nothing is lost, because the
// coordinator re-derives planning, verification and assembly work from Postgres.
import { makeTestScene } from '@tessera/blender';
import Redis from 'ioredis';
import { join } from 'node:path';
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { JobsRepository } from '../apps/coordinator/src/jobs/jobs.repository';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { seedSyntheticJob, SimulatedAgent, solidTile } from '../scripts/lib/simulated-agent';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { issueRinger } from './support/ringers';
import { cleanupTmpDirs, redisUrl, tmpDir, uniqueQueuePrefix, until } from './support/test-env';

jest.setTimeout(180_000);

// each test on a quiet farm: no coordinator or unfinished job of the test before
beforeEach(() => quietFarm());

const prisma = testPrisma();
const coordinators: Coordinator[] = [];

afterEach(async () => {
  for (const c of coordinators.splice(0)) await c.stop();
});
afterAll(async () => {
  await prisma.$disconnect();
  cleanupTmpDirs();
});

async function forgetQueues(prefix: string) {
  const redis = new Redis(redisUrl());
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    return keys.length;
  } finally {
    redis.disconnect();
  }
}

test('planning and assembly lost with Redis are redone from the database', async () => {
  const prefix = uniqueQueuePrefix('recovery');
  const env = {
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: tmpDir(),
    NODE_ENV: 'test',
    RECONCILE_MS: '500',
  };
  const secret = await createApiKey('recovery');
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 64,
    height: 36,
    samples: 4,
    frames: 1,
  });

  // An API-only replica: it accepts and leases work, but runs no queue workers.
  const api = await startCoordinator({ ...env, WORKERS: 'false' }, { name: 'api-only' });
  coordinators.push(api);
  // Planned by a full replica, which then goes away.
  const full = await startCoordinator(env, { name: 'full' });
  const client = new RequesterClient(api.url, secret);
  // one simulated node renders everything: no other node could check it
  const job = await client.submit(scene, { tilesX: 2, tilesY: 1, overlap: 2, verification: 'off' });
  expect(job.status).toBe('RENDERING');
  await full.stop();

  // Every tile is accepted; the frame's assembly entry now sits in Redis with nobody to run it.
  const agent = new SimulatedAgent();
  await agent.login(api.url);
  for (let i = 0; i < 2; i++) {
    const { lease } = await agent.requestLease(api.url, 2000);
    const tile = await solidTile(lease!.region.width, lease!.region.height);
    expect((await agent.finish(api.url, lease!, tile)).status).toBe(200);
  }
  // A job accepted by the API whose planning entry is lost too.
  const apiKey = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const sceneRow = await prisma.scene.findFirstOrThrow({
    where: { jobs: { some: { id: job.id } } },
  });
  const orphan = await new JobsRepository(prisma).createJob(apiKey.id, sceneRow.sha256, {
    tilesX: 1,
    tilesY: 1,
    overlap: 0,
    samples: null,
    format: 'png',
    verification: 'off',
  });

  expect(await forgetQueues(prefix)).toBeGreaterThan(0);
  coordinators.push(await startCoordinator(env, { name: 'restarted' }));

  await until(
    'the lost assembly to be redone',
    async () => (await client.job(job.id)).status === 'COMPLETED',
  );
  expect((await client.frame(job.id, 1)).length).toBeGreaterThan(0);
  await until('the lost planning to be redone', async () => {
    const row = await prisma.job.findUniqueOrThrow({ where: { id: orphan.id } });
    return row.status === 'RENDERING';
  });
  expect(await prisma.shard.count({ where: { jobId: orphan.id } })).toBe(1);
});

test('a check render whose evaluation was lost with Redis is evaluated, and its job completes', async () => {
  const prefix = uniqueQueuePrefix('recovery-check');
  const env = {
    QUEUE_PREFIX: prefix,
    STORAGE_DIR: tmpDir(),
    NODE_ENV: 'test',
    RECONCILE_MS: '300',
  };
  const secret = await createApiKey('recovery-check');
  const apiKey = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  // verification off: the ringer below is the job's only check
  const jobId = await seedSyntheticJob(prisma, apiKey.id, {
    frames: 1,
    grid: 2,
    label: 'recovery-check',
  });
  const full = await startCoordinator(env, { name: 'check-full' });
  coordinators.push(full);
  const [worker, checker] = [new SimulatedAgent(), new SimulatedAgent()];
  for (const agent of [worker, checker]) await agent.login(full.url);
  const tile = await solidTile(8, 8);
  const work = (await worker.requestLease(full.url, 2000)).lease!;
  expect((await worker.finish(full.url, work, tile)).status).toBe(200);
  const ringerId = await issueRinger(prisma, work.shardId);
  // An API-only replica leases the ringer and accepts it; its evaluation entry then goes with
  // Redis, after the full replica has stitched the frame and gone.
  const api = await startCoordinator({ ...env, WORKERS: 'false' }, { name: 'check-api-only' });
  coordinators.push(api);
  const ringer = (await checker.requestLease(api.url, 2000)).lease!;
  expect(ringer.shardId).toBe(ringerId);
  for (let i = 0; i < 3; i++) {
    const next = (await worker.requestLease(full.url, 2000)).lease!;
    expect((await worker.finish(full.url, next, tile)).status).toBe(200);
  }
  await until('the frame stitched', async () => {
    const frame = await prisma.frame.findFirstOrThrow({ where: { jobId } });
    return frame.status === 'DONE';
  });
  await full.stop();
  expect((await checker.finish(api.url, ringer, tile)).status).toBe(200);
  expect(await forgetQueues(prefix)).toBeGreaterThan(0);
  expect((await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).status).toBe('RENDERING');

  coordinators.push(await startCoordinator(env, { name: 'check-restarted' }));
  await until('the job completed', async () => {
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    return job.status === 'COMPLETED';
  });
  const verdict = await prisma.verdict.findFirstOrThrow({ where: { jobId, kind: 'RINGER' } });
  expect(verdict.outcome).toBe('PASS');
});
