import { DefaultJobOptions } from 'bullmq';

// The one place for queue names, payloads and job options. Payloads carry ids only:
// Postgres is the source of truth, a queue entry is a nudge to act on it.
export enum QueueName {
  Planning = 'planning',
  Verification = 'verification',
  Assembly = 'assembly',
  Payouts = 'payouts',
}

export interface PlanningPayload {
  jobId: string;
}

/**
 * `results`: leases were completed for these shards (batched: one queue job for the
 * completions of a few milliseconds); `result`: one shard; `frame`: re-verify a frame.
 */
export interface VerificationPayload {
  shardIds?: string[];
  shardId?: string;
  frameId?: string;
}

export interface AssemblyPayload {
  frameId: string;
}

export interface PayoutsPayload {
  jobId: string;
}

export const QUEUE_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  [QueueName.Planning]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  },
  [QueueName.Verification]: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: 5000,
    removeOnFail: 1000,
  },
  [QueueName.Assembly]: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    // Gone once done, so a frame reopened by a conviction can be assembled again under its id.
    removeOnComplete: true,
    removeOnFail: 1000,
  },
  [QueueName.Payouts]: {
    // A settlement waiting for confirmations ends its run; the payouts watcher queues it again.
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: true,
  },
};

/**
 * BullMQ job ids dedupe work: one planning per job, one assembly per frame at a time, one
 * reconciler nudge per check render.
 */
export const planningJobId = (jobId: string) => `plan-${jobId}`;
export const assemblyJobId = (frameId: string) => `assemble-${frameId}`;
export const checkNudgeJobId = (shardId: string) => `check-${shardId}`;
export const settlementJobId = (jobId: string) => `settle-${jobId}`;
