// The operator's agent against a real coordinator and real Blender: it rides out a coordinator
// restart without losing or repeating work, gives its leases back on SIGTERM so another node
// takes them at once, never runs a scene's Python, is matched to jobs by what it can render, and
// explains configuration mistakes in one line.
import { makeTestScene } from '@tessera/blender';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  Coordinator,
  FarmProcess,
  freePort,
  startAgent,
  startCoordinator,
} from '../scripts/lib/local-farm';
import { repoRoot } from '../scripts/lib/repo-root';
import { RequesterClient } from '../scripts/lib/requester-client';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix, until } from './support/test-env';

jest.setTimeout(240_000);

beforeAll(() => quietFarm());

const prisma = testPrisma();
const processes: FarmProcess[] = [];
let apiKey: string;

beforeAll(async () => {
  apiKey = await createApiKey('render-node');
});

// Nothing of a test outlives it: an agent left running (a failed assertion skips its stop())
// would take the next test's shards through its own coordinator, whose storage lacks the scene.
afterEach(async () => {
  for (const p of processes.splice(0).reverse()) await p.stop('SIGKILL');
  await quietFarm();
});

afterAll(async () => {
  await prisma.$disconnect();
  cleanupTmpDirs();
});

function agentEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = tmpDir();
  return {
    TESSERA_NODE_KEY: join(dir, 'node.key'),
    TESSERA_WORK_DIR: join(dir, 'work'),
    TESSERA_THREADS: '1',
    TESSERA_POLL_WAIT_MS: '5000',
    ...extra,
  };
}

function coordinatorEnv(
  storage: string,
  queuePrefix: string,
  leaseTtlMs = 20_000,
): NodeJS.ProcessEnv {
  return {
    QUEUE_PREFIX: queuePrefix,
    STORAGE_DIR: storage,
    LEASE_TTL_MS: String(leaseTtlMs),
    LEASE_SWEEP_MS: '250',
    NODE_ENV: 'test',
  };
}

async function leasesOf(jobId: string) {
  return prisma.lease.findMany({
    where: { shard: { jobId } },
    orderBy: { grantedAt: 'asc' },
    include: { result: true },
  });
}

test('a coordinator restart in the middle of a job loses no result and repeats no shard', async () => {
  const storage = tmpDir();
  const queuePrefix = uniqueQueuePrefix('restart');
  const port = await freePort();
  // Leases outlive the outage (a coordinator start on a busy machine can take many seconds):
  // what is tested is that the agent keeps and reports its work, not lease expiry.
  const env = coordinatorEnv(storage, queuePrefix, 90_000);
  let coordinator: Coordinator = await startCoordinator(env, { port, name: 'coordinator-1' });
  processes.push(coordinator);
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 48,
    frames: 4,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(coordinator.url, agentEnv(), { name: 'agent' });
  processes.push(agent);
  await until('registration', () => agent.output.some((l) => l.includes('registered as')));
  const job = await client.submit(scene, { tilesX: 2, tilesY: 1, overlap: 4, verification: 'off' });

  await until(
    'two accepted tiles',
    async () => (await prisma.result.count({ where: { shard: { jobId: job.id } } })) >= 2,
  );
  await coordinator.stop('SIGKILL');
  const downAt = new Date();
  // the agent keeps rendering what it holds; its results wait for the coordinator
  await new Promise((r) => setTimeout(r, 4000));
  coordinator = await startCoordinator(env, { port, name: 'coordinator-2' });
  processes.push(coordinator);
  const upAt = new Date();

  const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
  expect(done.status).toBe('COMPLETED');
  const shards = await prisma.shard.findMany({
    where: { jobId: job.id },
    include: { results: true },
  });
  expect(shards).toHaveLength(8);
  // every shard rendered and accepted exactly once: one lease each, none lapsed or failed
  for (const shard of shards) expect(shard.results).toHaveLength(1);
  const leases = await leasesOf(job.id);
  // A grant the killed coordinator committed but never answered goes back unused (at the agent's
  // next poll, which does not name it, or when it lapses); any other lease ended with its result
  // accepted.
  for (const lease of leases) {
    if (lease.status === 'RELEASED') expect(lease.failReason).toMatch(/never received it/);
    if (lease.status === 'EXPIRED' || lease.status === 'RELEASED') expect(lease.result).toBeNull();
    else expect(lease.status).toBe('COMPLETED');
  }
  expect(leases.filter((l) => l.status === 'COMPLETED')).toHaveLength(8);
  // at least one tile was leased before the crash and reported after the restart
  const carried = leases.filter(
    (l) => l.grantedAt < downAt && l.result && l.result.createdAt > upAt,
  );
  expect(carried.length).toBeGreaterThanOrEqual(1);
  expect(agent.output.some((l) => l.includes('coordinator unreachable'))).toBe(true);
  expect(agent.proc.exitCode).toBeNull();
  await agent.stop();
});

test('SIGTERM during a render gives the lease back and another node takes it at once', async () => {
  const coordinator = await startCoordinator(
    coordinatorEnv(tmpDir(), uniqueQueuePrefix('sigterm')),
  );
  processes.push(coordinator);
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 1024,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const first = startAgent(coordinator.url, agentEnv(), { name: 'first' });
  processes.push(first);
  await until('registration', () => first.output.some((l) => l.includes('registered as')));
  const job = await client.submit(scene, { tilesX: 2, tilesY: 1, overlap: 4, verification: 'off' });
  const lease = await until('the first lease', () =>
    prisma.lease.findFirst({ where: { shard: { jobId: job.id }, status: 'ACTIVE' } }),
  );
  const second = startAgent(coordinator.url, agentEnv(), { name: 'second' });
  processes.push(second);
  await until('the second agent', () => second.output.some((l) => l.includes('registered as')));
  // Blender has the scene loaded and is rendering the tile (several seconds at these samples)
  await until('the render', () => first.output.some((l) => l.endsWith(' rendering')));
  expect(await prisma.result.count({ where: { leaseId: lease.id } })).toBe(0);

  const signalledAt = Date.now();
  await first.stop('SIGTERM');
  const stoppedMs = Date.now() - signalledAt;
  expect(first.proc.exitCode).toBe(0);
  expect(stoppedMs).toBeLessThan(8000);

  const released = await prisma.lease.findUniqueOrThrow({ where: { id: lease.id } });
  expect(released.status).toBe('RELEASED');
  const next = await until('the shard leased again', () =>
    prisma.lease.findFirst({
      where: { shardId: lease.shardId, id: { not: lease.id } },
      orderBy: { grantedAt: 'asc' },
    }),
  );
  expect(next.nodeId).not.toBe(lease.nodeId);
  // at once: well inside the 20 s lease lifetime it would otherwise have waited for
  expect(next.grantedAt.getTime() - released.endedAt!.getTime()).toBeLessThan(3000);
  // nothing of the first node is left running: no Blender of its own
  const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
  expect(done.status).toBe('COMPLETED');
  const history = await leasesOf(job.id);
  expect(history.filter((l) => l.nodeId === lease.nodeId).map((l) => l.status)).not.toContain(
    'ACTIVE',
  );
  expect(history.filter((l) => l.status === 'EXPIRED')).toHaveLength(0);
  await second.stop();
});

test('a lease the coordinator says is gone stops its render at once', async () => {
  const coordinator = await startCoordinator({
    ...coordinatorEnv(tmpDir(), uniqueQueuePrefix('gone')),
    LEASE_TTL_MS: '6000', // heartbeats every 2 s
  });
  processes.push(coordinator);
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 1024,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(coordinator.url, agentEnv(), { name: 'agent' });
  processes.push(agent);
  await until('registration', () => agent.output.some((l) => l.includes('registered as')));
  const job = await client.submit(scene, { tilesX: 1, tilesY: 1, overlap: 0, verification: 'off' });
  const lease = await until('the lease', () =>
    prisma.lease.findFirst({ where: { shard: { jobId: job.id }, status: 'ACTIVE' } }),
  );
  // Blender starts (about 1.5 s) and renders; the render takes far longer than what follows
  await new Promise((r) => setTimeout(r, 2500));
  expect(await prisma.result.count({ where: { leaseId: lease.id } })).toBe(0);
  // The coordinator takes the lease back (as when it lapsed during a network split).
  await prisma.$executeRaw`UPDATE leases SET expires_at = now() - interval '1 second' WHERE id = ${lease.id}::uuid`;
  await prisma.$executeRaw`UPDATE shards SET lease_expires_at = now() - interval '1 second' WHERE lease_id = ${lease.id}::uuid`;
  const takenAt = Date.now();
  await until(
    'the agent noticing',
    () => agent.output.some((l) => l.includes(`lease ${lease.id} is gone`)),
    15_000,
  );
  expect(Date.now() - takenAt).toBeLessThan(2 * 2000 + 2000); // a heartbeat or two, and slack
  const done = await client.waitForJob(job.id, { timeoutMs: 180_000 });
  expect(done.status).toBe('COMPLETED');
  expect(await prisma.result.count({ where: { leaseId: lease.id } })).toBe(0);
  expect(await prisma.result.count({ where: { shardId: lease.shardId } })).toBe(1);
  // the killed render was not reported as done
  expect(agent.output.filter((l) => / done in \d+ ms/.test(l))).toHaveLength(1);
  await agent.stop();
});

test('a render over its time limit is killed and its lease failed cleanly', async () => {
  const coordinator = await startCoordinator(coordinatorEnv(tmpDir(), uniqueQueuePrefix('limit')));
  processes.push(coordinator);
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 4096,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(
    coordinator.url,
    agentEnv({ TESSERA_RENDER_TIMEOUT_MS: '2000', TESSERA_MAX_MEMORY_MB: '4096' }),
    { name: 'agent' },
  );
  processes.push(agent);
  const job = await client.submit(scene, { tilesX: 1, tilesY: 1, overlap: 0, verification: 'off' });
  const failed = await until('a failed lease', () =>
    prisma.lease.findFirst({ where: { shard: { jobId: job.id }, status: 'FAILED' } }),
  );
  expect(failed.failReason).toMatch(/took longer than 2000 ms; the Blender process was killed/);
  // the shard went straight back to the pool (no waiting for expiry)
  const shard = await prisma.shard.findUniqueOrThrow({ where: { id: failed.shardId } });
  expect(['PENDING', 'LEASED']).toContain(shard.status);
  expect(agent.proc.exitCode).toBeNull();
  await agent.stop();
  await prisma.job.update({ where: { id: job.id }, data: { status: 'CANCELLED' } });
});

test('a render over its memory limit is killed, and a tile no node can render fails its job with the reason', async () => {
  const coordinator = await startCoordinator({
    ...coordinatorEnv(tmpDir(), uniqueQueuePrefix('memory')),
    SHARD_MAX_FAILURES: '1', // one node's failure is enough here; the default asks for three
  });
  processes.push(coordinator);
  // 3000x3000: the full-frame buffers take a few hundred MB more than the loaded scene
  const scene = await makeTestScene(join(tmpDir(), 'big.blend'), {
    width: 3000,
    height: 3000,
    samples: 1,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(coordinator.url, agentEnv({ TESSERA_MAX_MEMORY_MB: '400' }), {
    name: 'agent',
  });
  processes.push(agent);
  const job = await client.submit(scene, { tilesX: 1, tilesY: 1, overlap: 0, verification: 'off' });
  const failed = await until('the failed job', async () => {
    const view = await client.job(job.id);
    return view.status === 'FAILED' ? view : null;
  });
  expect(failed.error).toMatch(
    /^frame 1 tile \(0, 0\) failed on 1 node\(s\); the last said: .*exceeded the memory limit of 419430400 bytes/,
  );
  const [lease, ...after] = await leasesOf(job.id);
  expect(lease.status).toBe('FAILED');
  expect(lease.failReason).toMatch(/exceeded the memory limit/);
  // The agent asked again at once: a grant between the failure and the job's end is ended
  // with the job. Nothing of the failed job is leased after that.
  for (const l of after) expect(l).toMatchObject({ status: 'RELEASED', failReason: 'job failed' });
  expect(agent.proc.exitCode).toBeNull();
  await new Promise((r) => setTimeout(r, 1500));
  expect(await leasesOf(job.id)).toHaveLength(1 + after.length);
  await agent.stop();
});

test('a scene whose Python tries to write outside its folder renders without running it', async () => {
  const coordinator = await startCoordinator(
    coordinatorEnv(tmpDir(), uniqueQueuePrefix('hostile')),
  );
  processes.push(coordinator);
  const outside = tmpDir();
  const marker = join(outside, 'pwned.txt');
  const scene = await makeTestScene(join(tmpDir(), 'hostile.blend'), {
    width: 96,
    height: 54,
    samples: 4,
    frames: 1,
    hostileMarker: marker,
  });
  // the fixture is armed: Blender with auto-execution on runs both the text block and the driver
  const armed = tmpDir();
  await promisify(execFile)(
    process.env.BLENDER_PATH ?? 'blender',
    ['-b', scene, '--enable-autoexec', '-o', join(armed, 'f_'), '-F', 'PNG', '-f', '1'],
    { timeout: 60_000, maxBuffer: 16 << 20 },
  );
  const { readFile, rm } = await import('node:fs/promises');
  expect(await readFile(marker, 'utf8')).toMatch(/text block ran[\s\S]*driver ran/);
  await rm(marker);

  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(coordinator.url, agentEnv(), { name: 'agent' });
  processes.push(agent);
  const job = await client.submit(scene, { tilesX: 2, tilesY: 2, overlap: 4, verification: 'off' });
  const done = await client.waitForJob(job.id, { timeoutMs: 120_000 });
  expect(done.status).toBe('COMPLETED');
  expect((await client.frame(job.id, 1)).length).toBeGreaterThan(0);
  expect(existsSync(marker)).toBe(false);
  await agent.stop();
});

test('jobs go only to nodes that meet their device, memory and Blender requirements', async () => {
  const coordinator = await startCoordinator(coordinatorEnv(tmpDir(), uniqueQueuePrefix('match')));
  processes.push(coordinator);
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 64,
    height: 36,
    samples: 4,
    frames: 1,
  });
  const client = new RequesterClient(coordinator.url, apiKey);
  const agent = startAgent(coordinator.url, agentEnv(), { name: 'cpu-agent' });
  processes.push(agent);
  await until('registration', () => agent.output.some((l) => l.includes('registered as')));
  const base = { tilesX: 1, tilesY: 1, overlap: 0, verification: 'off' };
  const gpuOnly = await client.submit(scene, { ...base, device: 'gpu' });
  const future = await client.submit(scene, { ...base, minBlenderVersion: '9.0' });
  const huge = await client.submit(scene, { ...base, minVramMb: 16_000_000 });
  const fits = await client.submit(scene, {
    ...base,
    device: 'cpu',
    minBlenderVersion: '3.4',
    minVramMb: 256,
  });
  expect((await client.waitForJob(fits.id, { timeoutMs: 60_000 })).status).toBe('COMPLETED');
  for (const job of [gpuOnly, future, huge]) {
    expect(await prisma.lease.count({ where: { shard: { jobId: job.id } } })).toBe(0);
    expect((await client.job(job.id)).status).toBe('RENDERING');
  }
  const address = /registered as (0x[0-9a-fA-F]{40})/.exec(agent.output.join('\n'))![1];
  const node = await prisma.node.findUniqueOrThrow({ where: { address } });
  expect(node.renderDevice).toBe('cpu');
  expect(node.blenderNum).toBe(3004);
  expect(node.renderMemMb).toBeGreaterThan(256);
  await prisma.job.updateMany({
    where: { id: { in: [gpuOnly.id, future.id, huge.id] } },
    data: { status: 'CANCELLED' },
  });
  await agent.stop();
});

describe('start-up mistakes give one clear line', () => {
  const run = (script: string, args: string[], env: NodeJS.ProcessEnv) =>
    promisify(execFile)(
      process.execPath,
      [join(repoRoot(), 'dist', 'apps', 'render-node', 'src', script), ...args],
      {
        env: { PATH: process.env.PATH, HOME: tmpDir(), ...env },
        timeout: 30_000,
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );

  test.each([
    [
      'main.js',
      [],
      { TESSERA_THREADS: 'many' },
      2,
      /^render-node: invalid render-node configuration: threads from TESSERA_THREADS: expected a number \(got "many"\)$/,
    ],
    [
      'cli.js',
      ['start', '--coordinator', 'nowhere'],
      {},
      2,
      /^render-node: invalid render-node configuration: coordinator from --coordinator: expected a URL/,
    ],
    [
      'main.js',
      [],
      { BLENDER_PATH: '/opt/no-blender/blender' },
      1,
      /^render-node: Blender not found at "\/opt\/no-blender\/blender" \(install it or set BLENDER_PATH/,
    ],
    [
      'cli.js',
      ['--blender', '/opt/no-blender/blender', 'benchmark'],
      {},
      1,
      /^render-node: Blender not found at "\/opt\/no-blender\/blender"/,
    ],
  ])('%s %j %j', async (script, args, env, code, line) => {
    const agentDir = tmpDir();
    const result = await run(script, args as string[], {
      TESSERA_NODE_KEY: join(agentDir, 'node.key'),
      TESSERA_WORK_DIR: join(agentDir, 'work'),
      ...(env as NodeJS.ProcessEnv),
    });
    expect(result.code).toBe(code);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });
});
