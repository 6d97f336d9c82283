import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { QueueName, VerificationPayload } from '../queues/queues';
import { FrameState } from './verification.repository';
import { VerificationService } from './verification.service';

/** Runs the checks completed leases call for, then re-verifies each of their frames once. */
@Processor(QueueName.Verification, { concurrency: 2 })
export class VerificationProcessor extends WorkerHost {
  private readonly logger = new Logger(VerificationProcessor.name);

  constructor(
    private readonly verification: VerificationService,
    @InjectQueue(QueueName.Verification) private readonly queue: Queue<VerificationPayload>,
  ) {
    super();
  }

  async process(queued: Job<VerificationPayload>): Promise<void> {
    const { shardIds, shardId, frameId } = queued.data;
    if (shardIds) return this.processBatch(shardIds);
    const frame = shardId ? await this.onResult(shardId) : frameId;
    if (frame) await this.verifyFrame(frame);
  }

  private async verifyFrame(frameId: string): Promise<void> {
    const states = await this.verification.frameStates([frameId]);
    await this.verification.verifyFrame(frameId, states.get(frameId));
  }

  private async onResult(shardId: string): Promise<string | null> {
    const facts = await this.verification.resultFacts([shardId]);
    return this.verification.onResult(shardId, facts.get(shardId));
  }

  /**
   * A batch of completions: each result first, then each frame they touched once. A shard that
   * fails goes back to the queue on its own, with the queue's retries, so that the batch's other
   * shards are not redone (their checks are sampled at random: a rerun would sample again).
   */
  private async processBatch(shardIds: string[]): Promise<void> {
    const frames = new Set<string>();
    const facts = await this.verification.resultFacts(shardIds);
    for (const id of shardIds) {
      try {
        const frame = await this.verification.onResult(id, facts.get(id));
        if (frame) frames.add(frame);
      } catch (e) {
        this.logger.warn(`result of shard ${id}: ${(e as Error).message}; queued again`);
        await this.queue.add('result', { shardId: id });
      }
    }
    if (frames.size === 0) return;
    let states: Map<string, FrameState>;
    try {
      states = await this.verification.frameStates([...frames]);
    } catch (e) {
      // the results are done: only their frames go back to the queue
      this.logger.warn(`frames of a batch: ${(e as Error).message}; queued again`);
      for (const frame of frames) await this.queue.add('frame', { frameId: frame });
      return;
    }
    for (const frame of frames) {
      try {
        await this.verification.verifyFrame(frame, states.get(frame));
      } catch (e) {
        this.logger.warn(`frame ${frame}: ${(e as Error).message}; queued again`);
        await this.queue.add('frame', { frameId: frame });
      }
    }
  }
}
