// A node's upload URL stays valid after its tile is accepted: it can PUT other bytes under the
// same key. Whatever verification compares and a frame is stitched from must still be the tile
// the node signed, and a node that wrote another image there is a cheater. Simulated agents (no
// Blender) against a real coordinator, Postgres and Redis.
import sharp from 'sharp';
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import {
  seedSyntheticJob,
  SimulatedAgent,
  SimulatedTile,
  solidTile,
} from '../scripts/lib/simulated-agent';
import type { LeaseGrant } from '@tessera/protocol';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix, until } from './support/test-env';

jest.setTimeout(120_000);

const prisma = testPrisma();
const coordinators: Coordinator[] = [];

beforeAll(() => quietFarm());
afterAll(async () => {
  for (const c of coordinators) await c.stop();
  await quietFarm();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

const BLUE = '#0000ffff';
const RED = '#ff0000ff';

/**
 * One frame of 2x2 tiles. The first tile granted is completed, then its node PUTs red pixels
 * (or `over`) under the same key; the other three are completed after that. Returns what the farm made of it.
 */
async function renderWithAChangedTile(name: string, env: NodeJS.ProcessEnv, over?: SimulatedTile) {
  const coordinator = await startCoordinator(
    { QUEUE_PREFIX: uniqueQueuePrefix(name), STORAGE_DIR: tmpDir(), NODE_ENV: 'test', ...env },
    { name },
  );
  coordinators.push(coordinator);
  const secret = await createApiKey(name);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const jobId = await seedSyntheticJob(prisma, key.id, { frames: 1, grid: 2, label: name });
  const agent = new SimulatedAgent();
  await agent.login(coordinator.url);
  const blue = await solidTile(8, 8, BLUE);
  const red = over ?? (await solidTile(8, 8, RED));

  const lease = async (): Promise<LeaseGrant> => {
    const res = await agent.requestLease(coordinator.url, 5000);
    if (!res.lease) throw new Error(`no lease: ${res.status}`);
    return res.lease;
  };
  const finish = async (grant: LeaseGrant, tile: SimulatedTile) => {
    const done = await agent.finish(coordinator.url, grant, tile);
    expect({ step: done.step, status: done.status }).toEqual({ step: 'complete', status: 200 });
  };

  const first = await lease();
  await finish(first, blue);
  expect(await agent.upload(first, red)).toBe(200); // the URL still takes a PUT
  for (let i = 0; i < 3; i++) await finish(await lease(), blue);
  return { coordinator, agent, secret, jobId, first, lease, finish, blue };
}

async function pixelsOf(png: Buffer): Promise<Set<string>> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const colours = new Set<string>();
  for (let i = 0; i < data.length; i += info.channels) {
    colours.add(data.subarray(i, i + info.channels).toString('hex'));
  }
  return colours;
}

test('the frame is stitched from the accepted bytes, not from bytes PUT afterwards', async () => {
  const run = await renderWithAChangedTile('changed-cached', {});
  const client = new RequesterClient(run.coordinator.url, run.secret);
  const job = await client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  // The tile was hashed at its completion and kept: assembly never saw the red bytes.
  expect(await pixelsOf(await client.frame(run.jobId, 1))).toEqual(new Set(['0000ffff']));
});

test('a node that PUTs another image over its accepted tile is convicted: another node redoes its work', async () => {
  // Nothing kept in memory: assembly reads every tile from storage and checks its hash.
  const run = await renderWithAChangedTile('changed-image', { RESULT_CACHE_BYTES: '0' });
  const client = new RequesterClient(run.coordinator.url, run.secret);
  const cheat = await prisma.result.findFirstOrThrow({ where: { leaseId: run.first.leaseId } });
  const fraud = await until('the fraud verdict', () =>
    prisma.verdict.findFirst({ where: { jobId: run.jobId, kind: 'FRAUD', nodeA: cheat.nodeId } }),
  );
  expect(fraud).toMatchObject({ outcome: 'FAIL', resultA: cheat.id, frameNumber: 1 });
  expect(fraud.evidence).toMatchObject({
    reason: 'tile rewritten after it was accepted',
    acceptedSha256: run.blue.sha256,
    storedSha256: (await solidTile(8, 8, RED)).sha256,
  });
  const blocked = await prisma.jobBlock.findFirstOrThrow({
    where: { jobId: run.jobId, nodeId: cheat.nodeId },
  });
  expect(blocked.reason).toBe('rewrote an accepted tile');
  // It gets no more work on the job; all four of its tiles go to another node.
  expect((await run.agent.requestLease(run.coordinator.url, 300)).status).toBe(204);
  const honest = new SimulatedAgent();
  await honest.login(run.coordinator.url);
  for (let i = 0; i < 4; i++) {
    const grant = (await honest.requestLease(run.coordinator.url, 5000)).lease!;
    expect(grant.jobId).toBe(run.jobId);
    const done = await honest.finish(run.coordinator.url, grant, run.blue);
    expect({ step: done.step, status: done.status }).toEqual({ step: 'complete', status: 200 });
  }
  const job = await client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  expect(await pixelsOf(await client.frame(run.jobId, 1))).toEqual(new Set(['0000ffff']));
  const shards = await prisma.shard.findMany({
    where: { jobId: run.jobId, kind: 'WORK' },
    include: { result: true },
  });
  expect(shards.map((s) => s.result?.nodeId)).toEqual(
    shards.map(() => expect.not.stringMatching(cheat.nodeId)),
  );
});

test('bytes that are no image under an accepted tile (as a damaged disk would leave) are redone without blame', async () => {
  const run = await renderWithAChangedTile(
    'changed-garbage',
    { RESULT_CACHE_BYTES: '0' },
    {
      bytes: Buffer.from('not a png at all'),
      sha256: '',
    },
  );
  const client = new RequesterClient(run.coordinator.url, run.secret);
  // The changed tile goes back to the pool: the next lease is the same shard again, for the
  // same node.
  const again = await run.lease();
  expect(again.shardId).toBe(run.first.shardId);
  const dropped = await prisma.result.findFirstOrThrow({ where: { leaseId: run.first.leaseId } });
  const shard = await prisma.shard.findUniqueOrThrow({ where: { id: run.first.shardId } });
  expect(shard.resultId).not.toBe(dropped.id);
  await run.finish(again, run.blue);

  const job = await client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  expect(await pixelsOf(await client.frame(run.jobId, 1))).toEqual(new Set(['0000ffff']));
  const redone = await prisma.shard.findUniqueOrThrow({
    where: { id: run.first.shardId },
    include: { result: true },
  });
  expect(redone.result?.leaseId).toBe(again.leaseId);
  expect(await prisma.verdict.count({ where: { jobId: run.jobId, kind: 'FRAUD' } })).toBe(0);
  expect(await prisma.jobBlock.count({ where: { jobId: run.jobId } })).toBe(0);
});

test('a checked tile that changed before its check came back is redone, its node convicted, and the check closed', async () => {
  const name = 'changed-checked';
  const coordinator = await startCoordinator(
    {
      QUEUE_PREFIX: uniqueQueuePrefix(name),
      STORAGE_DIR: tmpDir(),
      NODE_ENV: 'test',
      RESULT_CACHE_BYTES: '0',
    },
    { name },
  );
  coordinators.push(coordinator);
  const secret = await createApiKey(name);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  // A third node: once the worker is convicted, checks of the checker's renders need one.
  const [worker, checker, third] = [
    new SimulatedAgent(),
    new SimulatedAgent(),
    new SimulatedAgent(),
  ];
  for (const agent of [worker, checker, third]) await agent.login(coordinator.url);
  const blueOf = (grant: LeaseGrant) => solidTile(grant.region.width, grant.region.height, BLUE);
  const finish = async (agent: SimulatedAgent, grant: LeaseGrant, tile: SimulatedTile) => {
    const done = await agent.finish(coordinator.url, grant, tile);
    expect({ step: done.step, status: done.status }).toEqual({ step: 'complete', status: 200 });
  };

  // A new node's tile is checked with probability ~0.75 under `paranoid`: new jobs of one tile
  // until one is, and its check goes to the other node.
  for (let attempt = 1; ; attempt++) {
    const jobId = await seedSyntheticJob(prisma, key.id, {
      frames: 1,
      grid: 1,
      label: `${name}-${attempt}`,
      verification: 'paranoid',
    });
    const work = (await worker.requestLease(coordinator.url, 5000)).lease!;
    expect(work.jobId).toBe(jobId);
    await finish(worker, work, await blueOf(work));
    const check = (await checker.requestLease(coordinator.url, 2000)).lease;
    if (!check) {
      expect(attempt).toBeLessThan(8);
      continue;
    }
    // The worker PUTs red pixels over its accepted tile before the check comes back.
    expect(await worker.upload(work, await solidTile(8, 8, RED))).toBe(200);
    await finish(checker, check, await blueOf(check));

    // Whatever comes next (the tile again, more checks) is rendered honestly until the job ends.
    const client = new RequesterClient(coordinator.url, secret);
    const deadline = Date.now() + 60_000;
    while ((await client.job(jobId)).status === 'RENDERING') {
      expect(Date.now()).toBeLessThan(deadline);
      for (const agent of [worker, checker, third]) {
        const next = (await agent.requestLease(coordinator.url, 200)).lease;
        if (next) await finish(agent, next, await blueOf(next));
      }
    }
    expect((await client.job(jobId)).status).toBe('COMPLETED');
    expect(await pixelsOf(await client.frame(jobId, 1))).toEqual(new Set(['0000ffff']));
    const shard = await prisma.shard.findUniqueOrThrow({
      where: { id: work.shardId },
      include: { result: true },
    });
    expect(shard.result?.leaseId).not.toBe(work.leaseId); // the changed tile was redone
    // and its node, which wrote an image over it, convicted on the job
    const rewritten = await prisma.result.findFirstOrThrow({ where: { leaseId: work.leaseId } });
    expect(
      await prisma.verdict.count({ where: { jobId, kind: 'FRAUD', nodeA: rewritten.nodeId } }),
    ).toBe(1);
    return;
  }
});
