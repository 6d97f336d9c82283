// A ringer re-renders a tile of a frame that may be stitched already, so it can outlive its frame.
// The job completes only once its checks are resolved: a ringer that disagrees with the known
// tile is then arbitrated by a third node like any other dispute, and its loser convicted, rather
// than being paid while the dispute waits for a lease no completed job gets. Simulated agents (no
// Blender) against a real coordinator, Postgres and Redis; the ringer is issued as verification
// issues one, without the random draw (the sampling is not what this is about).
import type { LeaseGrant } from '@tessera/protocol';
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import {
  seedSyntheticJob,
  SimulatedAgent,
  SimulatedTile,
  solidTile,
} from '../scripts/lib/simulated-agent';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { issueRinger } from './support/ringers';
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
 * One frame of 2x2 tiles, all rendered by the worker; after its first tile, a ringer of that
 * tile is issued (for any node but the worker), and taken by the other node unless `untaken`.
 * Returns once the frame is stitched.
 */
async function frameWithRinger(
  name: string,
  opts: { untaken?: boolean; env?: NodeJS.ProcessEnv } = {},
) {
  const coordinator = await startCoordinator(
    { QUEUE_PREFIX: uniqueQueuePrefix(name), STORAGE_DIR: tmpDir(), NODE_ENV: 'test', ...opts.env },
    { name },
  );
  coordinators.push(coordinator);
  const secret = await createApiKey(name);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  // verification off: no random checks, the ringer below is the only one
  const jobId = await seedSyntheticJob(prisma, key.id, { frames: 1, grid: 2, label: name });
  const [worker, other, third] = [new SimulatedAgent(), new SimulatedAgent(), new SimulatedAgent()];
  for (const agent of [worker, other, third]) await agent.login(coordinator.url);
  const tile = (colour: string) => solidTile(8, 8, colour);
  const lease = async (agent: SimulatedAgent): Promise<LeaseGrant> => {
    const res = await agent.requestLease(coordinator.url, 5000);
    if (!res.lease) throw new Error(`no lease: ${res.status}`);
    expect(res.lease.jobId).toBe(jobId);
    return res.lease;
  };
  const finish = async (agent: SimulatedAgent, grant: LeaseGrant, t: SimulatedTile) => {
    const done = await agent.finish(coordinator.url, grant, t);
    expect({ step: done.step, status: done.status }).toEqual({ step: 'complete', status: 200 });
  };

  const blue = await tile(BLUE);
  const first = await lease(worker);
  await finish(worker, first, blue);
  const ringerId = await issueRinger(prisma, first.shardId);
  // the ringer sorts first (the first tile's place); the worker is never offered its own
  const ringer = opts.untaken ? null : await lease(other);
  if (ringer) expect(ringer.shardId).toBe(ringerId);
  for (let i = 0; i < 3; i++) await finish(worker, await lease(worker), blue);
  await until('the frame stitched', async () => {
    const frame = await prisma.frame.findFirstOrThrow({ where: { jobId } });
    return frame.status === 'DONE';
  });
  const client = new RequesterClient(coordinator.url, secret);
  return {
    coordinator,
    client,
    jobId,
    worker,
    other,
    third,
    lease,
    finish,
    tile,
    ringerId,
    ringer,
  };
}

const jobStatus = async (jobId: string) =>
  (await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).status;

test('a job with a ringer out completes when the ringer comes back and agrees', async () => {
  const run = await frameWithRinger('late-ringer-agrees');
  // what the requester sees meanwhile: every frame done, one check to be decided
  const waiting = await run.client.job(run.jobId);
  expect(waiting.status).toBe('RENDERING');
  expect(waiting.progress).toMatchObject({ frames: { total: 1, done: 1 }, checksOpen: 1 });
  await run.finish(run.other, run.ringer!, await run.tile(BLUE));
  const job = await run.client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  const verdict = await prisma.verdict.findFirstOrThrow({
    where: { jobId: run.jobId, kind: 'RINGER' },
  });
  expect(verdict.outcome).toBe('PASS');
});

test('a ringer that disagrees after the frame is stitched is arbitrated and its loser convicted', async () => {
  const run = await frameWithRinger('late-ringer-disagrees');
  const liar = run.other;
  await run.finish(liar, run.ringer!, await run.tile(RED));

  // The dispute goes to the third node (the worker and the liar are excluded), although every
  // frame of the job is stitched.
  const arbitration = await until('the arbitration issued', () =>
    prisma.shard.findFirst({ where: { jobId: run.jobId, purpose: 'ARBITRATION' } }),
  );
  expect(await jobStatus(run.jobId)).toBe('RENDERING');
  expect((await run.worker.requestLease(run.coordinator.url, 300)).status).toBe(204);
  const arbiter = await run.lease(run.third);
  expect(arbiter.shardId).toBe(arbitration.id);
  await run.finish(run.third, arbiter, await run.tile(BLUE));

  const liarNode = await prisma.node.findUniqueOrThrow({ where: { address: liar.address } });
  const fraud = await until('the fraud verdict', () =>
    prisma.verdict.findFirst({ where: { jobId: run.jobId, kind: 'FRAUD' } }),
  );
  expect(fraud.nodeA).toBe(liarNode.id);
  expect(await prisma.jobBlock.count({ where: { jobId: run.jobId, nodeId: liarNode.id } })).toBe(1);
  // The liar's ringer is closed unpaid (it tested the liar); the job needs nothing more.
  expect(await prisma.shard.findUniqueOrThrow({ where: { id: run.ringerId } })).toMatchObject({
    status: 'DONE',
    resultId: null,
  });
  const job = await run.client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  const kept = await prisma.shard.findMany({
    where: { jobId: run.jobId, verifiedAt: { not: null }, result: { nodeId: liarNode.id } },
  });
  expect(kept).toEqual([]);
});

test('a ringer no node has taken is withdrawn when the rest of the job is done', async () => {
  // e.g. the only nodes it may go to have left the farm: the job does not wait for them
  const run = await frameWithRinger('late-ringer-untaken', { untaken: true });
  const job = await run.client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  // closed without a result: nothing to pay, nothing to offer
  expect(await prisma.shard.findUniqueOrThrow({ where: { id: run.ringerId } })).toMatchObject({
    status: 'DONE',
    resultId: null,
    verifiedAt: expect.any(Date),
  });
  expect((await run.other.requestLease(run.coordinator.url, 300)).status).toBe(204);
});

test('a ringer whose node went away (its lease lapsed) is withdrawn, and the job completes', async () => {
  const run = await frameWithRinger('late-ringer-lapsed', {
    // long enough for the frame to be stitched while the ringer is still held, on a slow machine
    env: { LEASE_TTL_MS: '5000', RECONCILE_MS: '300' },
  });
  expect(await jobStatus(run.jobId)).toBe('RENDERING');
  // The other node never comes back; only it may render the ringer (the worker made the tile).
  const job = await run.client.waitForJob(run.jobId, { timeoutMs: 30_000 });
  expect(job.status).toBe('COMPLETED');
  expect(await prisma.shard.findUniqueOrThrow({ where: { id: run.ringerId } })).toMatchObject({
    status: 'DONE',
    resultId: null,
  });
  const lease = await prisma.lease.findFirstOrThrow({ where: { shardId: run.ringerId } });
  expect(lease.status).toBe('EXPIRED');
});
