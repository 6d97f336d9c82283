// Two coordinator processes on one database and 200 simulated agents (no Blender): no shard is
// leased to two nodes at once, none is lost, none is accepted twice — with agents that abandon
// leases (they expire), fail them, and replay completions.
import { completionMessage, LeaseGrant, sessionMessage } from '@tessera/protocol';
import { HDNodeWallet, Wallet } from 'ethers';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { JobsRepository } from '../apps/coordinator/src/jobs/jobs.repository';
import { planJob } from '../apps/coordinator/src/planning/planner';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { createApiKey, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';
import { hashApiKey } from '../apps/coordinator/src/auth/api-key';

jest.setTimeout(240_000);

const AGENTS = 200;
const FRAMES = 8;
const GRID = 8; // 8x8 tiles of 8x8 px: 512 shards
const LEASE_TTL_MS = 3000;

const prisma = testPrisma();
const coordinators: Coordinator[] = [];

afterAll(async () => {
  for (const c of coordinators) await c.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

async function seedJob(): Promise<string> {
  const secret = await createApiKey('concurrency');
  const key = await prisma.apiKey.findUniqueOrThrow({ where: { hash: hashApiKey(secret) } });
  const sha = createHash('sha256').update('concurrency-scene').digest('hex');
  await prisma.scene.upsert({
    where: { sha256: sha },
    create: { sha256: sha, size: 1n, storageKey: `scenes/${sha}.blend` },
    update: {},
  });
  const jobs = new JobsRepository(prisma);
  const settings = {
    tilesX: GRID,
    tilesY: GRID,
    overlap: 0,
    samples: null,
    format: 'png' as const,
  };
  const { id } = await jobs.createJob(key.id, sha, settings);
  const info = { resolution: { width: GRID * 8, height: GRID * 8 } };
  const plan = planJob(
    { width: 64, height: 64, frameStart: 1, frameEnd: FRAMES, frameStep: 1 },
    settings,
  );
  await jobs.savePlan(id, info, 0, plan);
  return id;
}

async function post<T>(
  url: string,
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function login(base: string, wallet: HDNodeWallet): Promise<string> {
  const c = await post<{ nonce: string }>(`${base}/api/v1/nodes/challenge`, undefined, {
    address: wallet.address,
  });
  const signature = await wallet.signMessage(sessionMessage(wallet.address, c.body.nonce));
  const s = await post<{ token: string }>(`${base}/api/v1/nodes/session`, undefined, {
    address: wallet.address,
    nonce: c.body.nonce,
    signature,
  });
  return s.body.token;
}

test('two replicas, 200 agents: every shard accepted exactly once, never leased twice at once', async () => {
  const env = {
    QUEUE_PREFIX: uniqueQueuePrefix('concurrency'),
    STORAGE_DIR: tmpDir(),
    LEASE_TTL_MS: String(LEASE_TTL_MS),
    LEASE_SWEEP_MS: '300',
    NODE_ENV: 'test',
  };
  coordinators.push(await startCoordinator(env, { name: 'replica-a' }));
  coordinators.push(await startCoordinator(env, { name: 'replica-b' }));
  const jobId = await seedJob();
  const tile = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#336699' } })
    .png()
    .toBuffer();
  const tileSha = createHash('sha256').update(tile).digest('hex');

  const stats = {
    completed: 0,
    abandoned: 0,
    failed: 0,
    replaysRefused: 0,
    unexpected: [] as string[],
  };
  let finished = false;

  const agent = async (i: number) => {
    const wallet = Wallet.createRandom();
    const replicas = coordinators.map((c) => c.url);
    const token = await login(replicas[i % 2], wallet);
    let n = 0;
    while (!finished) {
      const base = replicas[(i + n++) % 2]; // alternate replicas: sessions work on either
      const res = await post<LeaseGrant>(`${base}/api/v1/leases`, token, { waitMs: 500 });
      if (res.status === 204) continue;
      if (res.status !== 201 && res.status !== 200) {
        stats.unexpected.push(`lease ${res.status}`);
        continue;
      }
      const lease = res.body;
      const roll = Math.random();
      if (roll < 0.04) {
        stats.abandoned++; // a dead node: the lease must expire and the shard come back
        continue;
      }
      if (roll < 0.08) {
        const f = await post(`${base}/api/v1/leases/${lease.leaseId}/fail`, token, {
          reason: 'simulated',
        });
        if (f.status === 200) stats.failed++;
        else stats.unexpected.push(`fail ${f.status}`);
        continue;
      }
      const up = await fetch(lease.upload.url, {
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        body: tile,
      });
      if (!up.ok) {
        stats.unexpected.push(`upload ${up.status}`);
        continue;
      }
      const body = {
        sha256: tileSha,
        renderMs: 1,
        signature: await wallet.signMessage(completionMessage(lease.leaseId, tileSha)),
      };
      const done = await post(`${base}/api/v1/leases/${lease.leaseId}/complete`, token, body);
      if (done.status !== 200) {
        stats.unexpected.push(`complete ${done.status}`);
        continue;
      }
      stats.completed++;
      if (roll > 0.97) {
        const other = replicas[(i + n) % 2];
        const replay = await post(`${other}/api/v1/leases/${lease.leaseId}/complete`, token, body);
        if (replay.status === 409) stats.replaysRefused++;
        else stats.unexpected.push(`replay ${replay.status}`);
      }
    }
  };

  const watcher = (async () => {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const open = await prisma.shard.count({ where: { jobId, status: { not: 'DONE' } } });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    finished = true;
  })();
  await Promise.all([...Array.from({ length: AGENTS }, (_, i) => agent(i)), watcher]);

  expect(stats.unexpected).toEqual([]);
  const shards = await prisma.shard.findMany({
    where: { jobId },
    include: { results: true, leases: true },
  });
  expect(shards).toHaveLength(FRAMES * GRID * GRID);
  // none lost, none accepted twice
  for (const s of shards) {
    expect(s.status).toBe('DONE');
    expect(s.results).toHaveLength(1);
    expect(s.resultId).toBe(s.results[0].id);
    expect(s.leases.filter((l) => l.status === 'COMPLETED')).toHaveLength(1);
  }
  expect(stats.completed).toBe(shards.length);
  // never two live leases at once: each lease starts after the previous one ended or lapsed
  for (const s of shards) {
    const leases = [...s.leases].sort((a, b) => a.grantedAt.getTime() - b.grantedAt.getTime());
    for (let k = 1; k < leases.length; k++) {
      const prev = leases[k - 1];
      const prevEnd = prev.status === 'EXPIRED' ? prev.expiresAt : prev.endedAt!;
      expect(prevEnd.getTime()).toBeLessThanOrEqual(leases[k].grantedAt.getTime());
    }
  }
  // the abandoned leases really came back through expiry, and failed ones were re-leased
  const expired = shards.flatMap((s) => s.leases).filter((l) => l.status === 'EXPIRED');
  expect(expired.length).toBe(stats.abandoned);
  expect(stats.abandoned).toBeGreaterThan(0);
  expect(stats.failed).toBeGreaterThan(0);
  expect(stats.replaysRefused).toBeGreaterThan(0);
  await watcher;
});
