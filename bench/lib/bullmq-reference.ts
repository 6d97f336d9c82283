// A yardstick for the machine, measured in the same run as the throughput benchmark: issue 2
// set its 500 cycles/s target on a machine where "BullMQ alone does 2-8k jobs/s". The shared VMs
// this project runs on differ by up to 2x in speed, so the report gives this machine's BullMQ
// rate next to the farm's, and the ratio between the two means more than either alone.
import { Queue, Worker } from 'bullmq';
import { performance } from 'node:perf_hooks';
import { redisConnection } from '../../apps/coordinator/src/dispatch/redis';
import { sleep } from './stats';

export interface BullmqReference {
  /** no-op jobs/s of one worker (concurrency 50) draining a queue filled beforehand */
  drain: number;
  /** no-op jobs/s with 50 producers adding one job at a time while the worker processes */
  addAndProcess: number;
}

const CONCURRENCY = 50;
const DRAIN_JOBS = 10_000;
const ADD_WINDOW_MS = 3000;

export async function bullmqReference(redisUrl: string, prefix: string): Promise<BullmqReference> {
  const connection = redisConnection(redisUrl);
  const name = 'reference';
  const queue = new Queue(name, { connection, prefix });
  const jobOpts = { removeOnComplete: true, removeOnFail: true };
  let done = 0;
  const startWorker = () => {
    const worker = new Worker(name, async () => undefined, {
      connection,
      prefix,
      concurrency: CONCURRENCY,
    });
    worker.on('completed', () => done++);
    return worker;
  };
  try {
    for (let i = 0; i < DRAIN_JOBS; i += 1000) {
      await queue.addBulk(
        Array.from({ length: 1000 }, (_, k) => ({ name, data: { i: i + k }, opts: jobOpts })),
      );
    }
    let worker = startWorker();
    let started = performance.now();
    while (done < DRAIN_JOBS) await sleep(5);
    const drain = DRAIN_JOBS / ((performance.now() - started) / 1000);
    await worker.close();

    done = 0;
    worker = startWorker();
    let adding = true;
    const producer = async () => {
      while (adding) await queue.add(name, {}, jobOpts);
    };
    const producers = Array.from({ length: CONCURRENCY }, producer);
    await sleep(500); // warm-up
    const before = done;
    started = performance.now();
    await sleep(ADD_WINDOW_MS);
    const addAndProcess = (done - before) / ((performance.now() - started) / 1000);
    adding = false;
    await Promise.all(producers);
    await worker.close();
    return { drain, addAndProcess };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
