// `npm run bench`: the core-pipeline benchmarks (tile overhead, coordinator throughput, idle
// dispatch) on this machine, written to bench/RESULTS.md with the machine they ran on.
//
//   node dist/bench/run.js [--only=tiles,throughput,dispatch] [--quick] [--out=FILE] [--verbose]
//
// A full run writes bench/RESULTS.md; with --only (or --quick) the report goes to stdout unless
// --out says where. Needs the services of `bash scripts/setup.sh` and a build (`npm run build`).
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { repoRoot } from '../scripts/lib/repo-root';
import { idleDispatch } from './idle-dispatch';
import { describeMachine, openBenchEnv } from './lib/bench-env';
import { bullmqReference } from './lib/bullmq-reference';
import { BenchResults, renderReport } from './report';
import { throughput, ThroughputOptions, ThroughputResult } from './throughput';
import { tileOverhead } from './tile-overhead';

const ALL = ['tiles', 'throughput', 'dispatch'] as const;
type Bench = (typeof ALL)[number];

function args() {
  const get = (name: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = get('only')?.split(',') as Bench[] | undefined;
  for (const b of only ?? []) if (!ALL.includes(b)) throw new Error(`unknown benchmark ${b}`);
  const quick = process.argv.includes('--quick');
  const full = !only && !quick;
  return {
    benches: new Set<Bench>(only ?? ALL),
    quick,
    verbose: process.argv.includes('--verbose'),
    out: get('out') ?? (full ? join(repoRoot(), 'bench', 'RESULTS.md') : undefined),
  };
}

async function main() {
  const opts = args();
  const started = Date.now();
  const log = (section: string) => (line: string) => console.log(`[${section}] ${line}`);
  const echo = opts.verbose ? (line: string) => console.log(`  ${line}`) : undefined;

  const env = await openBenchEnv();
  const coordinators: Coordinator[] = [];
  const stopAll = async () => {
    for (const c of coordinators.splice(0).reverse()) await c.stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const machine = await describeMachine(env);
    console.log(
      `bench: ${machine.nproc} x ${machine.cpuModel}, Node ${machine.node}, ${machine.blender}`,
    );
    const results: BenchResults = { machine, durationS: 0, loadAtEnd: 0, throughput: [] };

    if (opts.benches.has('tiles')) {
      results.tiles = await tileOverhead(env, { trials: opts.quick ? 1 : 5, log: log('tiles') });
    }

    if (opts.benches.has('throughput')) {
      results.bullmq = await bullmqReference(env.redisUrl, `${env.queuePrefix}-reference`);
      log('throughput')(
        `BullMQ alone: ${results.bullmq.drain.toFixed(0)} jobs/s draining, ` +
          `${results.bullmq.addAndProcess.toFixed(0)} adding and processing`,
      );
    }
    if (opts.benches.has('throughput') || opts.benches.has('dispatch')) {
      coordinators.push(await startCoordinator(env.coordinatorEnv(), { name: 'replica-a', echo }));
    }
    const warmupMs = opts.quick ? 3000 : 5000;
    const windowMs = opts.quick ? 8000 : 20_000;
    // Shards for 1.5 times the run at `pace`, or at `lastRate` flat out: a first guess above what
    // one coordinator does (running out of work in the window makes the run invalid).
    const load = (pace?: number, lastRate = 800): ThroughputOptions => ({
      agents: 200,
      warmupMs,
      windowMs,
      pace,
      minShards: Math.ceil((1.5 * (warmupMs + windowMs) * (pace ?? lastRate)) / 1000),
      log: log('throughput'),
    });
    if (opts.benches.has('throughput')) {
      const flat = await throughput(env, coordinators, load());
      results.throughput.push(flat);
      logThroughput(flat);
      // the same 200 agents below saturation: half the capacity just measured
      const pace = Math.max(10, Math.round(flat.cyclesPerSecond / 2));
      results.throughput.push(await throughput(env, coordinators, load(pace)));
      logThroughput(results.throughput.at(-1)!);
    }
    if (opts.benches.has('throughput') || opts.benches.has('dispatch')) {
      coordinators.push(await startCoordinator(env.coordinatorEnv(), { name: 'replica-b', echo }));
    }
    if (opts.benches.has('throughput')) {
      const rate = results.throughput[0].cyclesPerSecond;
      results.throughput.push(await throughput(env, coordinators, load(undefined, 2 * rate)));
      logThroughput(results.throughput.at(-1)!);
    }
    if (opts.benches.has('dispatch')) {
      results.dispatch = await idleDispatch(env, coordinators, {
        idleAgents: 20,
        trials: opts.quick ? 4 : 10,
        log: log('dispatch'),
      });
    }
    await stopAll();

    results.durationS = (Date.now() - started) / 1000;
    results.loadAtEnd = loadavg()[0];
    const report = renderReport(results);
    if (opts.out) {
      writeFileSync(opts.out, report);
      console.log(`\nwrote ${opts.out} (${results.durationS.toFixed(0)} s)`);
    } else {
      console.log(`\n${report}`);
    }
  } catch (e) {
    for (const c of coordinators) {
      console.error(`--- last output of ${c.name}:\n${c.output.slice(-15).join('\n')}`);
    }
    throw e;
  } finally {
    await stopAll();
    await env.close();
  }
}

function logThroughput(r: ThroughputResult) {
  console.log(
    `[throughput] ${r.replicas} replica(s), ${r.pace ? `paced ${r.pace}/s` : 'flat out'}: ` +
      `${r.cyclesPerSecond.toFixed(0)} cycles/s, lease p50 ` +
      `${r.lease.p50.toFixed(1)} ms p99 ${r.lease.p99.toFixed(1)} ms, complete p50 ` +
      `${r.complete.p50.toFixed(1)} ms; cpu ${JSON.stringify(
        Object.fromEntries(Object.entries(r.cpu).map(([k, v]) => [k, Math.round(v)])),
      )}${Object.keys(r.errors).length ? `; errors ${JSON.stringify(r.errors)}` : ''}`,
  );
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.stack ?? e.message}`);
  process.exit(1);
});
