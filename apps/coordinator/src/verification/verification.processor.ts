import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { QueueName, VerificationPayload } from '../queues/queues';
import { VerificationService } from './verification.service';

/** Runs the checks a completed lease calls for, then re-verifies the tile's frame. */
@Processor(QueueName.Verification, { concurrency: 2 })
export class VerificationProcessor extends WorkerHost {
  constructor(private readonly verification: VerificationService) {
    super();
  }

  async process(queued: Job<VerificationPayload>): Promise<void> {
    const frameId = queued.data.shardId
      ? await this.verification.onResult(queued.data.shardId)
      : queued.data.frameId;
    if (frameId) await this.verification.verifyFrame(frameId);
  }
}
