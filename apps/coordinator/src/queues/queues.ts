import { DefaultJobOptions } from 'bullmq';

// The one place for queue names, payloads and job options. Payloads carry ids only:
// Postgres is the source of truth, a queue entry is a nudge to act on it.
export enum QueueName {
  Planning = 'planning',
  Assembly = 'assembly',
}

export interface PlanningPayload {
  jobId: string;
}

export interface AssemblyPayload {
  frameId: string;
}

export const QUEUE_OPTIONS: Record<QueueName, DefaultJobOptions> = {
  [QueueName.Planning]: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  },
  [QueueName.Assembly]: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: 1000,
    removeOnFail: 1000,
  },
};

/** BullMQ job ids dedupe work: one planning per job, one assembly per frame at a time. */
export const planningJobId = (jobId: string) => `plan-${jobId}`;
export const assemblyJobId = (frameId: string) => `assemble-${frameId}`;
