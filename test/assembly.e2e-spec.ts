// The frame bookkeeping of assembly against the real Postgres: a job's last frames saved by
// several workers at the same moment (assembly runs two at a time per replica, on every replica).
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';
import { AssemblyRepository } from '../apps/coordinator/src/assembly/assembly.repository';
import { seedSyntheticJob } from '../scripts/lib/simulated-agent';
import { createApiKey, quietFarm, testPrisma } from './support/farm';

const prisma = testPrisma();
const repo = new AssemblyRepository(prisma);

beforeAll(() => quietFarm());
afterAll(async () => {
  // nothing of this file may be left for the next file's coordinator to lease
  await quietFarm();
  await prisma.$disconnect();
});

test('a job whose last frames are saved at the same moment completes exactly once', async () => {
  const secret = await createApiKey('assembly');
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  for (let round = 0; round < 10; round++) {
    const jobId = await seedSyntheticJob(prisma, key.id, { frames: 4, grid: 1, label: 'assembly' });
    const frames = await prisma.frame.findMany({ where: { jobId }, orderBy: { number: 'asc' } });
    // the first frames are done; the last two race
    for (const f of frames.slice(0, 2)) await repo.saveFrame(f.id, jobId, 'image', 'thumb');
    const completions = await Promise.all(
      frames.slice(2).map((f) => repo.saveFrame(f.id, jobId, 'image', 'thumb')),
    );
    expect(completions.filter(Boolean)).toHaveLength(1);
    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.status).toBe('COMPLETED');
  }
});
