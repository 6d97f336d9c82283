// Benchmark 3, idle dispatch: how soon an idle, long-polling agent receives a shard that becomes
// available. One shard exists; a holder has it leased while idle agents wait in POST /leases.
// The holder releases it (POST /leases/:id/release, which wakes waiters) and the clock runs until
// an idle agent's long poll returns with that shard. The winner becomes the next holder.
// Measured with the idle agents on the replica that takes the release (woken in-process) and on
// the other replica (woken through Redis pub/sub).
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { LeaseGrant } from '@tessera/protocol';
import { Coordinator } from '../scripts/lib/local-farm';
import { seedSyntheticJob, SimulatedAgent } from '../scripts/lib/simulated-agent';
import { BenchEnv } from './lib/bench-env';
import { max, median, sleep, withTimeout } from './lib/stats';

export const DISPATCH_TARGET_MS = 1000;

export interface DispatchScenario {
  name: string;
  trials: number[];
  p50: number;
  max: number;
  /** the release call's own round trip (included in the latencies) */
  releaseP50: number;
}

export async function idleDispatch(
  env: BenchEnv,
  coordinators: Coordinator[],
  opts: { idleAgents: number; trials: number; log: (line: string) => void },
): Promise<DispatchScenario[]> {
  await env.cancelOpenJobs();
  await seedSyntheticJob(env.prisma, env.apiKey.id, { frames: 1, grid: 1, label: 'bench-idle' });
  const [a, b] = coordinators;
  const scenarios: { name: string; releaseOn: Coordinator; idleOn: Coordinator }[] = [
    { name: 'idle agents on the releasing replica', releaseOn: a, idleOn: a },
  ];
  if (b) {
    scenarios.push({ name: 'idle agents on another replica (Redis)', releaseOn: a, idleOn: b });
  }

  // The first holder takes the only shard before anyone waits.
  let holder = new SimulatedAgent();
  await holder.login(a.url);
  const first = await holder.requestLease(a.url, 0);
  if (!first.lease) throw new Error(`no shard to hold: ${first.status}`);
  let held: LeaseGrant = first.lease;

  const results: DispatchScenario[] = [];
  for (const scenario of scenarios) {
    const abort = new AbortController();
    // every idle agent's long poll (and each old holder's that rejoins) listens on this one signal
    setMaxListeners(0, abort.signal);
    let onLease: ((agent: SimulatedAgent, lease: LeaseGrant, at: number) => void) | undefined;
    const poll = async (agent: SimulatedAgent) => {
      while (!abort.signal.aborted) {
        let res;
        try {
          res = await agent.requestLease(scenario.idleOn.url, 20_000, abort.signal);
        } catch {
          return; // aborted
        }
        if (res.lease) {
          const at = performance.now();
          onLease?.(agent, res.lease, at);
          return; // now a holder: stops polling until it rejoins
        }
      }
    };
    const idle = Array.from({ length: opts.idleAgents }, () => new SimulatedAgent());
    await Promise.all(idle.map((agent) => agent.login(scenario.idleOn.url)));
    const polls = idle.map((agent) => poll(agent));

    const trials: number[] = [];
    const releases: number[] = [];
    for (let t = 0; t < opts.trials; t++) {
      await sleep(500); // every idle agent is parked in its long poll
      const got = new Promise<{ agent: SimulatedAgent; lease: LeaseGrant; at: number }>((r) => {
        onLease = (agent, lease, at) => r({ agent, lease, at });
      });
      const sent = performance.now();
      const rel = await holder.release(scenario.releaseOn.url, held.leaseId);
      if (rel.status !== 200) throw new Error(`release: ${rel.status}`);
      releases.push(rel.ms);
      const winner = await withTimeout(
        got,
        30_000,
        `no idle agent received the shard within 30 s (${scenario.name})`,
      );
      trials.push(winner.at - sent);
      // the old holder rejoins the idle agents (its session is valid on every replica)
      polls.push(poll(holder));
      holder = winner.agent;
      held = winner.lease;
    }
    abort.abort();
    await Promise.all(polls);
    const result = {
      name: scenario.name,
      trials,
      p50: median(trials),
      max: max(trials),
      releaseP50: median(releases),
    };
    opts.log(
      `${scenario.name}: p50 ${result.p50.toFixed(1)} ms, max ${result.max.toFixed(1)} ms ` +
        `over ${trials.length} trials`,
    );
    results.push(result);
  }
  await env.cancelOpenJobs();
  return results;
}
