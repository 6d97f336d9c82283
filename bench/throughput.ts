// Benchmark 2, coordinator throughput: simulated agents (no Blender) run lease -> upload a tiny
// PNG -> sign -> complete against shards seeded straight into the database. Counted over a fixed
// window after a warm-up, with work always available, so every POST /leases in the window is the
// "work is available" round trip. Two kinds of load:
//   - flat out: every agent starts its next cycle at once (the coordinator's capacity; latency is
//     then mostly queueing, by Little's law about agents / throughput per cycle);
//   - paced: every agent starts a cycle once per agents/pace seconds, as if it rendered in
//     between, so the coordinator is offered `pace` cycles/s (latency below saturation).
import { performance } from 'node:perf_hooks';
import { Coordinator } from '../scripts/lib/local-farm';
import { seedSyntheticJob, SimulatedAgent, solidTile } from '../scripts/lib/simulated-agent';
import { BenchEnv, CpuMeter } from './lib/bench-env';
import { percentile, sleep } from './lib/stats';

export const THROUGHPUT_TARGET = { cyclesPerSecond: 500, p99LeaseMs: 100 };

/** Frames per seeded job: JobsRepository.savePlan takes about 1 ms per shard in one transaction. */
const SEED_FRAMES = 16;
const GRID = 8; // 8x8 tiles of 8x8 px per 64x64 frame
const SETTLE_MS = 5000;

export interface ThroughputOptions {
  agents: number;
  warmupMs: number;
  windowMs: number;
  /** offered cycles/s; unset: flat out */
  pace?: number;
  /** free shards to have before starting: more than the run can complete */
  minShards: number;
  log: (line: string) => void;
}

export interface ThroughputResult {
  /** offered cycles/s of a paced run; null when flat out */
  pace: number | null;
  replicas: number;
  agents: number;
  /** free shards when the run started */
  shards: number;
  windowS: number;
  cycles: number;
  cyclesPerSecond: number;
  lease: { p50: number; p99: number; max: number; n: number };
  upload: { p50: number; p99: number };
  complete: { p50: number; p99: number };
  /** percent of one core per process; machine in percent of all cores */
  cpu: Record<string, number>;
  errors: Record<string, number>;
  /** a lease request found no work during the window: the numbers are not valid */
  ranOutOfWork: boolean;
}

/** Seeds synthetic jobs until at least `min` shards are free; returns how many are. */
async function ensureWork(env: BenchEnv, min: number): Promise<number> {
  const free = async () =>
    (
      await env.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM shards s JOIN jobs j ON j.id = s.job_id
        WHERE j.status = 'RENDERING' AND s.status = 'PENDING'`
    )[0].n;
  let n = await free();
  while (n < min) {
    await seedSyntheticJob(env.prisma, env.apiKey.id, {
      frames: SEED_FRAMES,
      grid: GRID,
      label: 'bench-throughput',
    });
    n = await free();
  }
  // Dead rows of the previous run cleared and planner statistics for the tables just filled,
  // as autovacuum keeps them on a running database (this machine's Postgres runs with
  // autovacuum off, so without this each run would scan the updates of the runs before it).
  await env.prisma.$executeRawUnsafe('VACUUM ANALYZE');
  return n;
}

export async function throughput(
  env: BenchEnv,
  coordinators: Coordinator[],
  opts: ThroughputOptions,
): Promise<ThroughputResult> {
  const shards = await ensureWork(env, opts.minShards);
  const tile = await solidTile(8, 8);
  const urls = coordinators.map((c) => c.url);
  const mode = opts.pace ? `paced at ${opts.pace} cycles/s` : 'flat out';
  opts.log(
    `${coordinators.length} replica(s), ${opts.agents} agents, ${mode}, ${shards} free shards`,
  );

  const agents = Array.from({ length: opts.agents }, () => new SimulatedAgent());
  for (let i = 0; i < agents.length; i += 20) {
    await Promise.all(agents.slice(i, i + 20).map((a, k) => a.login(urls[(i + k) % urls.length])));
  }

  const samples = { lease: [] as number[], upload: [] as number[], complete: [] as number[] };
  const errors: Record<string, number> = {};
  let cycles = 0;
  let measuring = false;
  let stopping = false;
  let ranOutOfWork = false;
  const error = (what: string) => {
    errors[what] = (errors[what] ?? 0) + 1;
  };

  const period = opts.pace ? (opts.agents / opts.pace) * 1000 : 0;
  const loop = async (agent: SimulatedAgent, i: number) => {
    const base = urls[i % urls.length];
    let next = performance.now() + Math.random() * period;
    while (!stopping) {
      if (period) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = Math.max(next + period, performance.now());
        if (stopping) break;
      }
      // latencies count for requests sent inside the window (not a warm-up backlog)
      const counted = measuring;
      const res = await agent.requestLease(base, 1000);
      if (!res.lease) {
        if (res.status === 204) ranOutOfWork ||= measuring;
        else error(`lease ${res.status}`);
        continue;
      }
      if (counted) samples.lease.push(res.ms);
      let t = performance.now();
      const up = await agent.upload(res.lease, tile);
      if (up !== 200) {
        error(`upload ${up}`);
        continue;
      }
      if (counted) samples.upload.push(performance.now() - t);
      const body = await agent.completion(res.lease.leaseId, tile);
      t = performance.now();
      const done = await agent.complete(base, res.lease.leaseId, body);
      if (done.status !== 200) {
        error(`complete ${done.status}`);
        continue;
      }
      if (counted && measuring) samples.complete.push(performance.now() - t);
      if (measuring) cycles++;
    }
  };

  const meter = new CpuMeter({
    ...Object.fromEntries(coordinators.map((c) => [c.name, c.proc.pid])),
    'bench (agents)': process.pid,
  });
  const running = agents.map((a, i) => loop(a, i));
  await sleep(opts.warmupMs);
  meter.begin();
  measuring = true;
  const started = performance.now();
  await sleep(opts.windowMs);
  measuring = false;
  const windowS = (performance.now() - started) / 1000;
  const cpu = meter.end();
  stopping = true;
  await Promise.all(running);
  // let the queue work of this run's completions (verification, assembly) finish, so that it
  // does not count against the next run
  await sleep(SETTLE_MS);

  return {
    pace: opts.pace ?? null,
    replicas: coordinators.length,
    agents: opts.agents,
    shards,
    windowS,
    cycles,
    cyclesPerSecond: cycles / windowS,
    lease: {
      p50: percentile(samples.lease, 50),
      p99: percentile(samples.lease, 99),
      max: percentile(samples.lease, 100),
      n: samples.lease.length,
    },
    upload: { p50: percentile(samples.upload, 50), p99: percentile(samples.upload, 99) },
    complete: { p50: percentile(samples.complete, 50), p99: percentile(samples.complete, 99) },
    cpu,
    errors,
    ranOutOfWork,
  };
}
