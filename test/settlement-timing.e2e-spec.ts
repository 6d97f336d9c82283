// When a job that ended is settled: verified work is paid, so a job ended early (cancelled or
// failed) waits a grace period for its last uploads to be verified; a completed job has nothing
// left on its way (it completes only once its checks are resolved: late-checks e2e) and settles
// at once. Real Postgres; no chain needed, this is the choice of jobs the payouts watcher queues.
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

/** A funded job that ended `agoMs` ago with `status`. */
async function endedJob(name: string, status: 'COMPLETED' | 'CANCELLED' | 'FAILED', agoMs: number) {
  const secret = await createApiKey(name);
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const jobId = await seedSyntheticJob(prisma, key.id, { frames: 1, grid: 2, label: name });
  jobs.push(jobId);
  await prisma.job.update({
    where: { id: jobId },
    data: { status, payment: 'FUNDED', completedAt: new Date(Date.now() - agoMs) },
  });
  return jobId;
}

const settles = async (jobId: string) => (await repo.jobsToSettle(GRACE_MS)).includes(jobId);

test('a completed job is settled at once', async () => {
  expect(await settles(await endedJob('settle-completed', 'COMPLETED', 0))).toBe(true);
});

test('a job ended early is settled once its grace period is over', async () => {
  for (const status of ['CANCELLED', 'FAILED'] as const) {
    expect(await settles(await endedJob(`settle-${status}-now`, status, 0))).toBe(false);
    expect(await settles(await endedJob(`settle-${status}-late`, status, GRACE_MS + 1000))).toBe(
      true,
    );
  }
});
