import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { PayoutsPayload, QueueName } from '../queues/queues';
import { SettlementService } from './settlement.service';

/** One settlement pass per queue entry; one job's settlement runs on one worker at a time. */
@Processor(QueueName.Payouts, { concurrency: 1 })
export class PayoutsProcessor extends WorkerHost {
  constructor(private readonly settlement: SettlementService) {
    super();
  }

  async process(queued: Job<PayoutsPayload>): Promise<string> {
    return this.settlement.settle(queued.data.jobId);
  }
}
