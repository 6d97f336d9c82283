import { Prisma, PrismaService } from '../prisma/prisma.service';

/**
 * Completes a rendering job once every frame is stitched and no check of its work is open;
 * true when this call completed it. Run inside a transaction by whoever may have removed the
 * last thing open: assembly (a frame stitched) and verification (a check resolved).
 *
 * A check outlives its frame when it is a ringer (a known tile of a frame stitched already):
 * were the job completed meanwhile, a disagreement found by it would need an arbitration that
 * no node could be leased any more (grants serve rendering jobs), and the node that rendered it
 * would be paid without the dispute being decided. A ringer no node holds (never taken, or its
 * lease lapsed) is withdrawn instead: it is a sample, and the only nodes it may go to could have
 * left the farm.
 *
 * The job row is locked first: two transactions removing the job's last two open things at
 * once would each count the other's as open (not yet committed) and neither would complete it.
 * Locked, the second waits, and its count starts after the first has committed. A grant taking
 * a ringer at the same moment holds its row: the withdrawal waits for it and then finds the
 * ringer leased, so it stays, and holds the job.
 */
export async function completeJobIfFinished(
  tx: Prisma.TransactionClient,
  jobId: string,
): Promise<boolean> {
  await tx.$queryRaw`SELECT 1 FROM jobs WHERE id = ${jobId}::uuid FOR UPDATE`;
  const [{ framesOpen }] = await tx.$queryRaw<{ framesOpen: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM frames WHERE job_id = ${jobId}::uuid AND status <> 'DONE')
      AS "framesOpen"`;
  if (framesOpen) return false;
  await withdrawRingers(tx, Prisma.sql`job_id = ${jobId}::uuid AND status = 'PENDING'`);
  const [{ checksOpen }] = await tx.$queryRaw<{ checksOpen: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM shards
                   WHERE job_id = ${jobId}::uuid AND kind = 'CHECK' AND verified_at IS NULL)
      AS "checksOpen"`;
  if (checksOpen) return false;
  const { count } = await tx.job.updateMany({
    where: { id: jobId, status: 'RENDERING' },
    data: { status: 'COMPLETED', completedAt: new Date() },
  });
  return count === 1;
}

/** completeJobIfFinished in a transaction of its own: true when this call completed the job. */
export function completeJob(prisma: PrismaService, jobId: string): Promise<boolean> {
  return prisma.$transaction((tx) => completeJobIfFinished(tx, jobId));
}

/**
 * Closes the ringers that match `where` without a result: verified (so nothing waits for them),
 * DONE (so no grant offers them), unpaid (settlement pays results). Rows are kept, with their
 * lease history. A ringer tests whoever renders it, so one that nobody holds, or whose renderer
 * was convicted, has nothing left to find.
 */
export function withdrawRingers(tx: Prisma.TransactionClient, where: Prisma.Sql): Promise<number> {
  return tx.$executeRaw`
    UPDATE shards SET status = 'DONE', result_id = NULL, verified_at = now(),
           lease_id = NULL, lease_expires_at = NULL
    WHERE kind = 'CHECK' AND purpose = 'RINGER' AND ${where}`;
}
