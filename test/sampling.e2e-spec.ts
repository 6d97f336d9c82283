// A node's tiles in a job are sampled for secret checks at its reputation when the job first saw
// its work, or lower (samplingReputation): trust earned during a job does not make the rest of
// that job cheaper to fake, while trust earned before the job does lower its check rate.
// Simulated agents (no Blender) uploading identical solid tiles, so every check agrees.
import { checkRate, POLICIES } from '@tessera/verification';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { seedSyntheticJob, SimulatedAgent, solidTile } from '../scripts/lib/simulated-agent';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, redisUrl, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(180_000);

/** work tiles each node renders once the newcomer's first result is in */
const TILES = 30;
/** the state of a node that passed a million checks: score ~1 */
const TRUSTED = { verifiedTiles: 1_000_000, overlapAgreements: 0, failedChecks: 0 };

const prisma = testPrisma();
let coordinator: Coordinator | undefined;
let redis: Redis | undefined;

beforeAll(() => quietFarm());

afterAll(async () => {
  await coordinator?.stop();
  redis?.disconnect();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

test("trust earned during a job does not lower that job's check rate; trust from before does", async () => {
  const prefix = uniqueQueuePrefix('sampling');
  coordinator = await startCoordinator(
    { QUEUE_PREFIX: prefix, STORAGE_DIR: tmpDir(), NODE_ENV: 'test' },
    { name: 'sampling' },
  );
  const url = coordinator.url;
  redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const verification = new Queue('verification', { connection: redis, prefix });
  const drained = async () => {
    for (;;) {
      const counts = await verification.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).every((n) => n === 0)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const secret = await createApiKey('sampling');
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const jobId = await seedSyntheticJob(prisma, key.id, {
    frames: 2,
    grid: 8,
    label: 'sampling-scene',
    verification: 'standard',
  });

  const workDone = async (agent: SimulatedAgent) =>
    prisma.result.count({
      where: { node: { address: agent.address }, shard: { jobId, kind: 'WORK' } },
    });
  // Renders leases (work, or checks of the other node's work: they look the same) with the same
  // solid pixels until the agent has `tiles` work results in the job.
  const render = async (agent: SimulatedAgent, tiles: number) => {
    const target = (await workDone(agent)) + tiles;
    while ((await workDone(agent)) < target) {
      const { lease } = await agent.requestLease(url, 2000);
      if (!lease) throw new Error('no work for a simulated agent');
      const tile = await solidTile(lease.region.width, lease.region.height);
      const done = await agent.finish(url, lease, tile);
      expect(done.status).toBe(200);
    }
    await drained();
  };
  const setTrust = (agent: SimulatedAgent, trust: object) =>
    prisma.node.update({ where: { address: agent.address }, data: { trust } });

  const newcomer = new SimulatedAgent();
  const veteran = new SimulatedAgent();
  await newcomer.login(url);
  await veteran.login(url);
  await setTrust(veteran, TRUSTED);

  // The newcomer's first result is sampled as a new node's; then it is trusted mid-job (as if it
  // had passed many checks meanwhile) and renders more of the same job.
  await render(newcomer, 1);
  await setTrust(newcomer, TRUSTED);
  await render(newcomer, TILES);
  await render(veteran, TILES);

  const sampled = async (agent: SimulatedAgent) => {
    const node = await prisma.node.findUniqueOrThrow({ where: { address: agent.address } });
    const work = await prisma.result.findMany({
      where: { nodeId: node.id, shard: { jobId, kind: 'WORK' } },
      select: { id: true },
    });
    const checks = await prisma.shard.count({
      where: { kind: 'CHECK', purpose: 'CROP', checkedResultId: { in: work.map((w) => w.id) } },
    });
    const recorded = await prisma.jobNodeTrust.findUniqueOrThrow({
      where: { jobId_nodeId: { jobId, nodeId: node.id } },
    });
    return { tiles: work.length, checks, firstScore: recorded.score };
  };
  const n = await sampled(newcomer);
  const v = await sampled(veteran);
  const newRate = checkRate(0, POLICIES.standard);
  const trustedRate = checkRate(v.firstScore, POLICIES.standard);
  console.log(
    `crop checks: newcomer ${n.checks}/${n.tiles} tiles (new-node rate ${newRate.toFixed(2)}), ` +
      `veteran ${v.checks}/${v.tiles} (trusted rate ${trustedRate.toFixed(3)})`,
  );

  expect(n.firstScore).toBe(0);
  expect(v.firstScore).toBeGreaterThan(0.99);
  expect(n.tiles).toBe(TILES + 1);
  expect(v.tiles).toBe(TILES);
  // Binomial bounds far out in the tails (each side fails by chance less than once in 10^5):
  // sampled at the new-node rate, the newcomer gets about 0.6 x 31 checks; had its mid-job
  // trust counted, about 0.02 x 31.
  expect(n.checks).toBeGreaterThanOrEqual(Math.floor(newRate * n.tiles * 0.45));
  expect(v.checks).toBeLessThanOrEqual(Math.max(5, Math.ceil(trustedRate * v.tiles * 4)));
  await verification.close();
});
