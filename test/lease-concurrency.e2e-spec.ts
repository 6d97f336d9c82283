// Two coordinator processes on one database and 200 simulated agents (no Blender): no shard is
// leased to two nodes at once, none is lost, none is accepted twice — with agents that abandon
// leases (they expire), fail them, and replay completions.
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { seedSyntheticJob, SimulatedAgent, solidTile } from '../scripts/lib/simulated-agent';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(240_000);

beforeAll(() => quietFarm());

const AGENTS = 200;
const FRAMES = 8;
const GRID = 8; // 8x8 tiles of 8x8 px: 512 shards
const LEASE_TTL_MS = 3000;

const prisma = testPrisma();
const coordinators: Coordinator[] = [];

afterAll(async () => {
  for (const c of coordinators) await c.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

/** A synthetic job of its own requester; the job's id and the requester's API key. */
async function seedJob(
  label: string,
  job: { frames: number; grid: number },
): Promise<{ jobId: string; secret: string }> {
  const secret = await createApiKey(label);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  return { jobId: await seedSyntheticJob(prisma, key.id, { ...job, label }), secret };
}

/** A coordinator of its own (`name`; `env` added to the defaults) and a job seeded for it. */
async function coordinatorWithJob(
  name: string,
  job: { frames: number; grid: number },
  env: NodeJS.ProcessEnv = {},
): Promise<{ coordinator: Coordinator; jobId: string; secret: string }> {
  const coordinator = await startCoordinator(
    { QUEUE_PREFIX: uniqueQueuePrefix(name), STORAGE_DIR: tmpDir(), NODE_ENV: 'test', ...env },
    { name },
  );
  coordinators.push(coordinator);
  return { coordinator, ...(await seedJob(name, job)) };
}

test('two replicas, 200 agents: every shard accepted exactly once, never leased twice at once', async () => {
  const env = {
    QUEUE_PREFIX: uniqueQueuePrefix('concurrency'),
    STORAGE_DIR: tmpDir(),
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    LEASE_SWEEP_MS: '300',
    // Agents fail 4% of their leases at random: with the default of 3, a shard failed by three
    // different nodes (about one run in thirty) would fail the whole job, which is not what
    // this test is about.
    SHARD_MAX_FAILURES: '1000',
    NODE_ENV: 'test',
  };
  coordinators.push(await startCoordinator(env, { name: 'replica-a' }));
  coordinators.push(await startCoordinator(env, { name: 'replica-b' }));
  const { jobId } = await seedJob('concurrency-scene', { frames: FRAMES, grid: GRID });
  const tile = await solidTile(8, 8);

  const stats = {
    completed: 0,
    abandoned: 0,
    failed: 0,
    replaysRefused: 0,
    /** too slow (a loaded machine): the lease lapsed first, answered 410, the shard came back */
    lapsed: 0,
    unexpected: [] as string[],
  };
  let finished = false;

  const agent = async (i: number) => {
    const node = new SimulatedAgent();
    const replicas = coordinators.map((c) => c.url);
    await node.login(replicas[i % 2]);
    let n = 0;
    while (!finished) {
      const base = replicas[(i + n++) % 2]; // alternate replicas: sessions work on either
      const res = await node.requestLease(base, 500);
      if (res.status === 204) continue;
      if (!res.lease) {
        stats.unexpected.push(`lease ${res.status}`);
        continue;
      }
      const lease = res.lease;
      const roll = Math.random();
      if (roll < 0.04) {
        stats.abandoned++; // a dead node: the lease must expire and the shard come back
        continue;
      }
      if (roll < 0.08) {
        const f = await node.fail(base, lease.leaseId, 'simulated');
        if (f.status === 200) stats.failed++;
        else if (f.status === 410) stats.lapsed++;
        else stats.unexpected.push(`fail ${f.status}`);
        continue;
      }
      const done = await node.finish(base, lease, tile);
      if (done.step === 'complete' && done.status === 410) {
        stats.lapsed++;
        continue;
      }
      if (done.status !== 200) {
        stats.unexpected.push(`${done.step} ${done.status} ${done.message ?? ''}`);
        continue;
      }
      stats.completed++;
      if (roll > 0.97) {
        const other = replicas[(i + n) % 2];
        const replay = await node.complete(other, lease.leaseId, done.body!);
        if (replay.status === 409) stats.replaysRefused++;
        else stats.unexpected.push(`replay ${replay.status}`);
      }
    }
  };

  const watcher = (async () => {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const open = await prisma.shard.count({ where: { jobId, status: { not: 'DONE' } } });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    finished = true;
  })();
  await Promise.all([...Array.from({ length: AGENTS }, (_, i) => agent(i)), watcher]);

  expect(stats.unexpected).toEqual([]);
  const shards = await prisma.shard.findMany({
    where: { jobId },
    include: { results: true, leases: true },
  });
  expect(shards).toHaveLength(FRAMES * GRID * GRID);
  // none lost, none accepted twice
  for (const s of shards) {
    expect(s.status).toBe('DONE');
    expect(s.results).toHaveLength(1);
    expect(s.resultId).toBe(s.results[0].id);
    expect(s.leases.filter((l) => l.status === 'COMPLETED')).toHaveLength(1);
  }
  expect(stats.completed).toBe(shards.length);
  // never two live leases at once: each lease starts after the previous one ended or lapsed
  for (const s of shards) {
    const leases = [...s.leases].sort((a, b) => a.grantedAt.getTime() - b.grantedAt.getTime());
    for (let k = 1; k < leases.length; k++) {
      const prev = leases[k - 1];
      const prevEnd = prev.status === 'EXPIRED' ? prev.expiresAt : prev.endedAt!;
      expect(prevEnd.getTime()).toBeLessThanOrEqual(leases[k].grantedAt.getTime());
    }
  }
  // the abandoned leases really came back through expiry, and failed ones were re-leased
  const expired = shards.flatMap((s) => s.leases).filter((l) => l.status === 'EXPIRED');
  expect(expired.length).toBe(stats.abandoned + stats.lapsed);
  expect(stats.abandoned).toBeGreaterThan(0);
  expect(stats.failed).toBeGreaterThan(0);
  expect(stats.replaysRefused).toBeGreaterThan(0);
  await watcher;
});

test("a grant whose answer never reached its node goes back at the node's next poll", async () => {
  const GRACE_MS = 600;
  const { coordinator } = await coordinatorWithJob(
    'orphans',
    { frames: 1, grid: 2 },
    { LEASE_ORPHAN_GRACE_MS: String(GRACE_MS) },
  );
  const url = coordinator.url;
  const node = new SimulatedAgent();
  await node.login(url);
  const status = async (leaseId: string) =>
    (await prisma.lease.findUniqueOrThrow({ where: { id: leaseId } })).status;

  // Granted and committed, but (as if the coordinator died before answering) the node never
  // learns of it: its next polls do not name it.
  const lost = (await node.requestLease(url, 1000)).lease!;
  // Too young to tell from a grant still on its way to another slot of the same agent: kept.
  const second = (await node.requestLease(url, 1000, undefined, [])).lease!;
  expect(await status(lost.leaseId)).toBe('ACTIVE');

  await new Promise((r) => setTimeout(r, GRACE_MS + 200));
  // Older than the grace and not named: released at once (its shard is free again); the lease
  // the node names is kept.
  const third = (await node.requestLease(url, 1000, undefined, [second.leaseId])).lease!;
  const ended = await prisma.lease.findUniqueOrThrow({ where: { id: lost.leaseId } });
  expect(ended.status).toBe('RELEASED');
  expect(ended.failReason).toBe('granted, but the node never received it');
  expect(await status(second.leaseId)).toBe('ACTIVE');
  expect(await status(third.leaseId)).toBe('ACTIVE');
  // the shard is free again (or already leased anew), not held by the lost grant until it lapses
  const shard = await prisma.shard.findUniqueOrThrow({ where: { id: lost.shardId } });
  expect(shard.leaseId).not.toBe(lost.leaseId);
  expect(['PENDING', 'LEASED']).toContain(shard.status);
});

test('a grant in flight when its job is cancelled is ended with the job, not left active', async () => {
  const { coordinator, jobId, secret } = await coordinatorWithJob('end-race', {
    frames: 1,
    grid: 2,
  });
  const agent = new SimulatedAgent();
  await agent.login(coordinator.url);
  const node = await prisma.node.findUniqueOrThrow({ where: { address: agent.address } });

  // A grant as the grant statement makes it (shard locked, leased, lease inserted), held open
  // while the job is cancelled: it read the job as RENDERING before the cancel committed.
  let commitGrant!: () => void;
  const grantMayCommit = new Promise<void>((r) => (commitGrant = r));
  let granted!: (leaseId: string) => void;
  const grantMade = new Promise<string>((r) => (granted = r));
  const grant = prisma.$transaction(
    async (tx) => {
      const [shard] = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text FROM shards WHERE job_id = ${jobId}::uuid AND status = 'PENDING'
        ORDER BY frame_number, tile_y, tile_x LIMIT 1 FOR UPDATE SKIP LOCKED`;
      const lease = await tx.lease.create({
        data: {
          shardId: shard.id,
          nodeId: node.id,
          status: 'ACTIVE',
          expiresAt: new Date(Date.now() + 60_000),
        },
      });
      await tx.shard.update({
        where: { id: shard.id },
        data: {
          status: 'LEASED',
          leaseId: lease.id,
          nodeId: node.id,
          leaseExpiresAt: lease.expiresAt,
        },
      });
      granted(lease.id);
      await grantMayCommit;
      return lease.id;
    },
    { timeout: 30_000 },
  );
  const leaseId = await grantMade;

  let answered = false;
  const cancel = fetch(`${coordinator.url}/api/v1/jobs/${jobId}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}` },
  }).then(async (res) => {
    answered = true;
    return { status: res.status, body: (await res.json()) as { leasesEnded: number } };
  });
  // The cancel waits for the grant in flight instead of looking past it...
  await new Promise((r) => setTimeout(r, 500));
  expect(answered).toBe(false);
  commitGrant();
  await grant;
  // ...and ends its lease in the same step (not by a later cleanup pass).
  const res = await cancel;
  expect(res).toEqual({ status: 200, body: expect.objectContaining({ leasesEnded: 1 }) });
  const lease = await prisma.lease.findUniqueOrThrow({ where: { id: leaseId } });
  expect(lease).toMatchObject({ status: 'RELEASED', failReason: 'job cancelled' });
  // and nothing of the cancelled job is granted afterwards (other tests' jobs may be)
  const next = await agent.requestLease(coordinator.url, 300);
  expect(next.lease?.jobId).not.toBe(jobId);
});

test('a node is offered tiles away from its own, so that overlaps are checked across nodes', async () => {
  const { coordinator, jobId } = await coordinatorWithJob('beside', { frames: 1, grid: 3 });
  // oldest job first: ahead of whatever other tests left rendering
  await prisma.job.update({ where: { id: jobId }, data: { createdAt: new Date('2000-01-01') } });
  const tileOf = async (shardId: string) => {
    const s = await prisma.shard.findUniqueOrThrow({ where: { id: shardId } });
    return [s.tileX, s.tileY];
  };
  const a = new SimulatedAgent();
  const b = new SimulatedAgent();
  await a.login(coordinator.url);
  await b.login(coordinator.url);
  const next = async (node: SimulatedAgent) => {
    const { lease } = await node.requestLease(coordinator.url, 1000);
    expect(lease?.jobId).toBe(jobId);
    return tileOf(lease!.shardId);
  };
  // In frame order a would take (0,0) and then (1,0), its neighbour; it is given the first tile
  // that touches none of its own, and b, which has none, the first in frame order.
  expect(await next(a)).toEqual([0, 0]);
  expect(await next(a)).toEqual([2, 0]);
  expect(await next(b)).toEqual([1, 0]);
  expect(await next(a)).toEqual([1, 1]);
  // b holds (1,0): (0,1) touches none of its tiles ((1,1) is a's)
  expect(await next(b)).toEqual([0, 1]);
});
