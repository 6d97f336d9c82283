// When a job that ended is settled: verified work is paid, so a completed job waits for the check
// renders still on their way (a ringer re-checks a tile of a frame already stitched, so the job
// can complete while its render is out), up to a grace period. Real Postgres; no chain needed,
// this is the choice of jobs the payouts watcher queues.
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { PayoutsRepository } from '../apps/coordinator/src/payouts/payouts.repository';
import { seedSyntheticJob } from '../scripts/lib/simulated-agent';
import { createApiKey, testPrisma } from './support/farm';

const prisma = testPrisma();
const repo = new PayoutsRepository(prisma);
const GRACE_MS = 10_000;
const jobs: string[] = [];

afterAll(async () => {
  // no coordinator of a later test file settles these
  await prisma.job.updateMany({ where: { id: { in: jobs } }, data: { payment: 'NONE' } });
  await prisma.$disconnect();
});

/** A funded job that completed `agoMs` ago, with one check render in the given state. */
async function completedJobWithCheck(
  name: string,
  check: { status: 'PENDING' | 'LEASED' | 'DONE'; verified: boolean },
  agoMs = 0,
) {
  const secret = await createApiKey(name);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const jobId = await seedSyntheticJob(prisma, key.id, { frames: 1, grid: 2, label: name });
  jobs.push(jobId);
  await prisma.job.update({
    where: { id: jobId },
    data: {
      status: 'COMPLETED',
      payment: 'FUNDED',
      completedAt: new Date(Date.now() - agoMs),
    },
  });
  const shards = await prisma.shard.findMany({ where: { jobId }, orderBy: { tileX: 'asc' } });
  await prisma.shard.updateMany({
    where: { jobId },
    data: { status: 'DONE', verifiedAt: new Date() },
  });
  // One shard stands for a check render (the columns the settlement looks at).
  const checkId = shards[0].id;
  await prisma.shard.update({
    where: { id: checkId },
    data: {
      kind: 'CHECK',
      status: check.status,
      verifiedAt: check.verified ? new Date() : null,
    },
  });
  return { jobId, checkId };
}

const settles = async (jobId: string) => (await repo.jobsToSettle(GRACE_MS)).includes(jobId);

test('a completed job waits for its checks in flight, leased or being verified, then settles', async () => {
  const { jobId, checkId } = await completedJobWithCheck('settle-leased-check', {
    status: 'LEASED',
    verified: false,
  });
  expect(await settles(jobId)).toBe(false);
  // rendered and uploaded: its verification is still to come
  await prisma.shard.update({ where: { id: checkId }, data: { status: 'DONE' } });
  expect(await settles(jobId)).toBe(false);
  await prisma.shard.update({ where: { id: checkId }, data: { verifiedAt: new Date() } });
  expect(await settles(jobId)).toBe(true);
});

test('a check that nobody will render (never leased) does not hold the settlement', async () => {
  const { jobId } = await completedJobWithCheck('settle-pending-check', {
    status: 'PENDING',
    verified: false,
  });
  expect(await settles(jobId)).toBe(true);
});

test('after the grace period a completed job settles even with a check still out', async () => {
  const { jobId } = await completedJobWithCheck(
    'settle-late-check',
    { status: 'LEASED', verified: false },
    GRACE_MS + 1000,
  );
  expect(await settles(jobId)).toBe(true);
});
