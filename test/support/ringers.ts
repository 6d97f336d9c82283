import type { PrismaService } from '../../apps/coordinator/src/prisma/prisma.service';
import { VerificationRepository } from '../../apps/coordinator/src/verification/verification.repository';

/**
 * Issues a ringer of the accepted tile `shardId`, for any node but the one that rendered it:
 * what verification does when it samples one, without the random draw. Returns its shard id.
 */
export async function issueRinger(prisma: PrismaService, shardId: string): Promise<string> {
  const known = await prisma.shard.findUniqueOrThrow({
    where: { id: shardId },
    include: { result: true },
  });
  if (!known.result) throw new Error(`shard ${shardId} has no accepted result`);
  const id = await new VerificationRepository(prisma).createCheck({
    jobId: known.jobId,
    frameId: known.frameId,
    frameNumber: known.frameNumber,
    tileX: known.tileX,
    tileY: known.tileY,
    region: { x: known.x, y: known.y, width: known.width, height: known.height },
    purpose: 'RINGER',
    checkedResultId: known.result.id,
    disputedResultId: undefined,
    excludeNodeIds: [known.result.nodeId],
  });
  if (!id) throw new Error('the ringer was not created');
  return id;
}
