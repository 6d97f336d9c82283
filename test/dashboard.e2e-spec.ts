// The dashboard in a real browser (headless Chromium via playwright-core) against a real farm: two
// coordinator replicas (agents on one, the browser on the other, so live events cross replicas
// through Redis), real agents and Blender. A job submitted from the page fills its grid live and
// shows its frames; a 4,800-tile job stays responsive; a cheater's tiles go rejected and are redone
// live, and the tile shows its verdict.
import { makeTestScene } from '@tessera/blender';
import { Wallet } from 'ethers';
import { unzipSync } from 'fflate';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { ARTIFACTS_DIR, launchBrowser, signIn, signOut } from './support/browser';
import { cheatCatalogue, registeredNode, startCheater } from './support/cheats';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, redisUrl, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(300_000);

beforeAll(() => quietFarm());

const prisma = testPrisma();
const prefix = uniqueQueuePrefix('dashboard');
const processes: FarmProcess[] = [];
let workers: Coordinator;
let web: Coordinator;
let browser: BrowserContext;
let page: Page;
let apiKey: string;
let farmEnv: NodeJS.ProcessEnv;

// Code that runs in the page is written as strings: it needs the DOM, which the tests' tsconfig
// (Node) does not type. `tessera` is the job page's handle (grid and apply), see job-page.ts.
const gridSize = (n: number) => `typeof tessera !== 'undefined' && tessera.grid.size === ${n}`;
const count = (state: string) => `tessera.grid.count(${JSON.stringify(state)})`;
// The timeline's entries as `key | kind frame N: text` (without the time), in page order.
const timelineEntries = `[...document.querySelectorAll('#timeline > div')].map((d) =>
  d.dataset.key + ' | ' + d.textContent.slice(d.querySelector('time').textContent.length + 1))`;

beforeAll(async () => {
  const storage = tmpDir();
  const env = { QUEUE_PREFIX: prefix, STORAGE_DIR: storage, NODE_ENV: 'test' };
  farmEnv = env;
  workers = await startCoordinator(env, { name: 'coordinator-a' });
  processes.push(workers);
  // The replica the browser talks to runs no queue workers and serves no agent.
  web = await startCoordinator({ ...env, WORKERS: 'false' }, { name: 'coordinator-b' });
  processes.push(web);
  apiKey = await createApiKey('dashboard-artist');
  browser = await launchBrowser();
  page = await browser.newPage();
  await signIn(page, web.url, apiKey);
});

afterAll(async () => {
  await browser?.close();
  for (const p of processes.reverse()) await p.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

let agentsStarted = false;

/** Two honest agents on replica A, started once (each test can run on its own with -t). */
function startHonestAgents(n = 2) {
  if (agentsStarted) return;
  agentsStarted = true;
  for (let i = 1; i <= n; i++) {
    const work = tmpDir();
    processes.push(
      startAgent(
        workers.url,
        {
          TESSERA_NODE_KEY: join(work, 'node.key'),
          TESSERA_WORK_DIR: join(work, 'work'),
          TESSERA_THREADS: '1',
          TESSERA_POLL_WAIT_MS: '5000',
        },
        { name: `honest-${i}` },
      ),
    );
  }
}

test('a job submitted from the page fills its grid live; frames appear, open and download', async () => {
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    samples: 8,
    frames: 3,
    seed: 11,
  });
  await page.goto(`${web.url}/dashboard`);
  await page.setInputFiles('#submit-job input[name="scene"]', scene);
  await page.fill('#submit-job input[name="tilesX"]', '2');
  await page.fill('#submit-job input[name="tilesY"]', '2');
  await page.click('#submit-job button[type="submit"]');
  await page.waitForURL(/\/dashboard\/jobs\/[0-9a-f-]{36}$/, { timeout: 120_000 });
  const jobId = page.url().split('/').pop()!;

  // No agent yet: the whole grid is queued. Then record every state a cell takes, live.
  await page.waitForFunction(gridSize(12));
  expect(await page.evaluate(count('queued'))).toBe(12);
  await recordCellStates(page);
  startHonestAgents(2);

  await page.waitForSelector('#grid img[data-frame]', { timeout: 180_000 });
  await page.waitForFunction(`${count('verified')} === 12`, undefined, { timeout: 180_000 });
  await page.waitForFunction(`document.querySelectorAll('#grid img[data-frame]').length === 3`);
  await page.waitForSelector('#job-status:text("COMPLETED")');
  // Filled by events, not by reloading: every cell went from queued through leased to verified.
  expect(await page.evaluate('window.sameDocument')).toBe(true);
  const histories = await cellHistories(page);
  expect(Object.keys(histories)).toHaveLength(12);
  for (const states of Object.values(histories)) {
    expect(states[0]).toBe('queued');
    expect(states.indexOf('leased')).toBeGreaterThan(0);
    expect(states.at(-1)).toBe('verified');
  }

  // The timeline told it live: planned, each frame's first lease, its verified tiles, assembled.
  await page.waitForSelector('#timeline .k-finished:has-text("job completed")');
  const told = (await page.evaluate(timelineEntries)) as string[];
  expect(told).toEqual(
    expect.arrayContaining([
      'planned | planned planned: 3 frames, 12 tiles',
      'leased:1 | leased frame 1: first tile leased',
      'verified:1 | verified frame 1: 4/4 tiles verified',
      'assembled:3 | assembled frame 3: frame assembled',
    ]),
  );
  for (const frame of [1, 2, 3])
    expect(told.filter((e) => e.startsWith(`leased:${frame} `))).toHaveLength(1);
  // The server's timeline holds the same entries: a resync (or a page opened now) rebuilds it from
  // there and loses nothing the live events added, nor doubles anything.
  await page.evaluate('tessera.resync()');
  const reread = (await page.evaluate(timelineEntries)) as string[];
  expect([...reread].sort()).toEqual([...told].sort());
  await page.waitForFunction(
    `[...document.querySelectorAll('#grid img[data-frame]')].every((i) => i.complete && i.naturalWidth > 0)`,
  );
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-job.png'), fullPage: true });

  // A thumbnail opens the full-size frame, which downloads as the same PNG the API serves.
  await page.click('#grid img[data-frame="2"]');
  await page.waitForFunction(
    `(() => { const i = document.querySelector('#frame-full'); return !!i && i.complete && i.naturalWidth > 0; })()`,
  );
  expect(await page.evaluate(`document.querySelector('#frame-full').naturalWidth`)).toBe(160);
  const client = new RequesterClient(web.url, apiKey);
  const viaApi = await client.frame(jobId, 2);
  const downloaded = await fetchInPage(page, '#download-frame');
  expect(downloaded.equals(viaApi)).toBe(true);

  // All frames as one zip.
  const zip = unzipSync(new Uint8Array(await fetchInPage(page, '#download-all')));
  expect(Object.keys(zip).sort()).toEqual(['frame-0001.png', 'frame-0002.png', 'frame-0003.png']);
  for (const [name, bytes] of Object.entries(zip)) {
    const frame = Number(/(\d+)/.exec(name)![1]);
    expect(Buffer.from(bytes).equals(await client.frame(jobId, frame))).toBe(true);
    expect((await sharp(Buffer.from(bytes)).metadata()).width).toBe(160);
  }
  // Thumbnails are stored PNGs of their own (at most 320 px wide).
  const thumb = await fetchUrlInPage(page, `/api/v1/dashboard/jobs/${jobId}/frames/2/thumbnail`);
  expect((await sharp(thumb).metadata()).width).toBeLessThanOrEqual(320);

  // The jobs list shows it finished; with no chain on this farm, it has no cost in wei.
  await page.goto(`${web.url}/dashboard?status=COMPLETED`);
  await page.waitForSelector(`#jobs tr[data-job="${jobId}"] .status:text("COMPLETED")`);
  expect(await page.textContent(`#jobs tr[data-job="${jobId}"] td.cost`)).toBe('–');
});

test('a 300-frame x 16-tile job renders 4,800 cells and applies 100 tile updates in under 100 ms', async () => {
  const jobId = await insertJob(300, 4, 4);
  // What the escrow gave back when it was cancelled (this farm has no chain: written here).
  const { txHash } = await onChain(jobId, 0, {
    kind: 'REFUNDED',
    address: Wallet.createRandom().address,
    amountWei: '1250000000000000',
  });
  await page.goto(`${web.url}/dashboard/jobs/${jobId}`);
  await page.waitForFunction(gridSize(4800), undefined, { timeout: 60_000 });
  await page.waitForSelector(
    `#timeline .k-paid:has-text("refunded 1250000000000000 wei to the requester tx ${txHash}")`,
  );
  const shardIds = await prisma.shard.findMany({
    where: { jobId },
    orderBy: [{ frameNumber: 'asc' }, { tileY: 'asc' }, { tileX: 'asc' }],
    select: { id: true, frameNumber: true },
  });

  // Measured in the browser: applying 100 lease events and the next frame being painted.
  const batch = shardIds.slice(0, 100).map((s, i) =>
    envelope(`perf-${i}`, {
      type: 'lease.granted',
      jobId,
      shardId: s.id,
      leaseId: randomUUID(),
      nodeId: randomUUID(),
      frame: s.frameNumber,
    }),
  );
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const events = batch.map((e) =>
      round % 2 === 0
        ? e
        : {
            ...e,
            event: {
              type: 'lease.ended',
              jobId,
              shardId: e.event.shardId,
              leaseId: e.event.leaseId,
              status: 'EXPIRED',
            },
          },
    );
    const elapsed = await page.evaluate(`(async () => {
      const start = performance.now();
      tessera.apply(${JSON.stringify(events)});
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now() - start;
    })()`);
    times.push(elapsed as number);
  }
  console.log(
    `100-tile update on a 4,800-cell grid: ${times.map((t) => t.toFixed(1)).join(', ')} ms`,
  );
  expect(Math.max(...times)).toBeLessThan(100);
  expect(await page.evaluate(count('leased'))).toBe(100);
  // 100 leases over 7 frames are one timeline line per frame, however many arrive.
  const frames = new Set(shardIds.slice(0, 100).map((s) => s.frameNumber));
  const leased = ((await page.evaluate(timelineEntries)) as string[]).filter((e) =>
    e.startsWith('leased:'),
  );
  expect(leased).toHaveLength(frames.size);

  // The same through the real path: published on Redis, streamed by the other replica.
  const redis = new Redis(redisUrl());
  try {
    const started = Date.now();
    const pipeline = redis.pipeline();
    for (const [i, s] of shardIds.slice(100, 200).entries()) {
      pipeline.publish(
        `${prefix}:farm-events`,
        JSON.stringify(
          envelope(`redis-${i}`, {
            type: 'lease.completed',
            jobId,
            shardId: s.id,
            leaseId: randomUUID(),
            nodeId: randomUUID(),
            renderMs: 1000,
          }),
        ),
      );
    }
    await pipeline.exec();
    await page.waitForFunction(`${count('rendered')} === 100`, undefined, {
      timeout: 10_000,
    });
    console.log(`100 tile events from Redis to the page: ${Date.now() - started} ms`);
  } finally {
    redis.disconnect();
  }
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-large-job.png') });
});

test('the page survives a replica restart (resync on reconnect); cancel ends the leases and stops the grants; another requester gets 404 for the job, its views and its events', async () => {
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 160,
    height: 90,
    // long enough (160 tiles) to be still rendering when it is cancelled
    samples: 32,
    frames: 40,
    seed: 12,
  });
  startHonestAgents();
  const client = new RequesterClient(web.url, apiKey);
  const job = await client.submit(scene, { tilesX: 2, tilesY: 2, verification: 'light' });
  await page.goto(`${web.url}/dashboard/jobs/${job.id}`);
  await page.waitForFunction(gridSize(160));
  await page.evaluate('window.sameDocument = true');
  const started = `(160 - ${count('queued')})`;
  await page.waitForFunction(`${count('verified')} >= 1`, undefined, { timeout: 120_000 });

  // The browser's replica goes away and comes back on the same address: EventSource reconnects
  // with Last-Event-ID, the new process cannot replay it and says resync; the page re-reads.
  const port = Number(new URL(web.url).port);
  const t0 = Date.now();
  await web.stop();
  console.log(`replica stopped in ${Date.now() - t0} ms`);
  await page.waitForSelector('#live:text("reconnecting")');
  web = await startCoordinator({ ...farmEnv, WORKERS: 'false' }, { name: 'coordinator-b2', port });
  processes.push(web);
  await page.waitForSelector('#live:text("live")', { timeout: 30_000 });
  console.log(`page live again ${Date.now() - t0} ms after the stop began`);
  const atRestart = (await page.evaluate(started)) as number;
  await page.waitForFunction(`${started} >= ${atRestart + 4}`, undefined, {
    timeout: 120_000,
  });
  expect(await page.evaluate('window.sameDocument')).toBe(true);
  console.log(`grid moving again ${Date.now() - t0} ms after the stop began`);

  // Cancel from the page while agents hold leases of the job.
  page.once('dialog', (d) => void d.accept());
  await page.click('#cancel');
  await page.waitForSelector('#job-status:text("CANCELLED")');
  const cancelledAt = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  const active = await prisma.lease.count({
    where: { status: 'ACTIVE', shard: { jobId: job.id } },
  });
  expect(active).toBe(0);
  const granted = await prisma.lease.count({
    where: { shard: { jobId: job.id }, grantedAt: { gt: new Date(cancelledAt) } },
  });
  expect(granted).toBe(0);
  const left = await prisma.shard.count({ where: { jobId: job.id, status: { not: 'DONE' } } });
  expect(left).toBeGreaterThan(0);
  // A second cancel is a conflict, and someone else's key does not even see the job.
  const again = await fetch(`${web.url}/api/v1/jobs/${job.id}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(again.status).toBe(409);
  const strangerKey = await createApiKey('stranger');
  const stranger = await fetch(`${web.url}/api/v1/jobs/${job.id}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${strangerKey}` },
  });
  expect(stranger.status).toBe(404);
  // Nor its read models and its event stream, which its owner's key reads.
  const views = [
    `/api/v1/dashboard/jobs/${job.id}`,
    `/api/v1/dashboard/jobs/${job.id}/timeline`,
    `/api/v1/dashboard/jobs/${job.id}/tiles/1/0/0`,
    `/api/v1/events?job=${job.id}`,
  ];
  for (const path of views) {
    expect([path, await statusOf(path, apiKey)]).toEqual([path, 200]);
    expect([path, await statusOf(path, strangerKey)]).toEqual([path, 404]);
  }
  for (const path of [
    `/api/v1/dashboard/jobs/${job.id}/frames.zip`,
    `/api/v1/dashboard/jobs/${job.id}/frames/1`,
  ]) {
    expect([path, await statusOf(path, strangerKey)]).toEqual([path, 404]);
  }
});

/** The status of a GET with this key (the body, an endless event stream for one, is not read). */
async function statusOf(path: string, key: string): Promise<number> {
  const res = await fetch(`${web.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  await res.body?.cancel();
  return res.status;
}

test('a cheater is caught while the page watches: its tiles go rejected, are re-rendered and verified, the verdict shows; the farm view shows the blocklist', async () => {
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 128,
    height: 72,
    samples: 8,
    frames: 2,
    seed: 5,
  });
  startHonestAgents();
  const wallet = Wallet.createRandom();
  const cheater = startCheater(
    workers.url,
    wallet,
    cheatCatalogue({ overlap: 4, samples: 8, earlierRenders: new Map() })['black tile'],
  );
  try {
    const node = await registeredNode(prisma, wallet.address);
    const client = new RequesterClient(web.url, apiKey);
    const submitted = await client.submit(scene, {
      tilesX: 3,
      tilesY: 3,
      overlap: 4,
      verification: 'paranoid',
    });
    // Watched live from planning on: the grid records what each cell goes through.
    await page.goto(`${web.url}/dashboard/jobs/${submitted.id}`);
    await page.waitForFunction(gridSize(18), undefined, { timeout: 120_000 });
    await recordCellStates(page);
    const job = await client.waitForJob(submitted.id, { timeoutMs: 240_000, intervalMs: 500 });
    expect(job.status).toBe('COMPLETED');
    await page.waitForSelector('#job-status:text("COMPLETED")');
    await page.waitForFunction(`${count('verified')} === 18`);

    // A work tile of the cheater's that was thrown away, and a comparison that failed it (not
    // the FRAUD verdict, which names the same result and shows as a conviction).
    const rejected = await prisma.result.findMany({
      where: { nodeId: node!.id, shard: { jobId: job.id, kind: 'WORK' }, acceptedFor: null },
      include: { shard: true },
    });
    expect(rejected.length).toBeGreaterThan(0);
    const verdicts = await prisma.verdict.findMany({
      where: {
        jobId: job.id,
        outcome: 'FAIL',
        kind: { in: ['OVERLAP', 'CROP', 'RINGER'] },
        OR: [
          { resultA: { in: rejected.map((r) => r.id) } },
          { resultB: { in: rejected.map((r) => r.id) } },
        ],
      },
    });
    expect(verdicts.length).toBeGreaterThan(0);
    const blamed = rejected.find((r) =>
      verdicts.some((v) => v.resultA === r.id || v.resultB === r.id),
    )!;
    const expected = verdicts.find((v) => v.resultA === blamed.id || v.resultB === blamed.id)!;

    // The conviction threw the cheater's tiles away while the page watched: the resync it caused
    // showed some of them rejected (waiting) or re-rendering, and they were verified afterwards.
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    const histories = await cellHistories(page);
    console.log(
      `cheater job, cells that were redone: ${Object.values(histories)
        .filter((h) => h.includes('rejected') || h.includes('rerendering'))
        .map((h) => h.join(' > '))
        .join('; ')}`,
    );
    const redone = Object.values(histories).filter((states) => {
      const thrownAway = states.findIndex((s) => s === 'rejected' || s === 'rerendering');
      return thrownAway >= 0 && states.indexOf('verified', thrownAway) > thrownAway;
    });
    expect(redone.length).toBeGreaterThan(0);
    expect(histories[blamed.shard.id].at(-1)).toBe('verified');
    const cell = `#grid [data-f="${blamed.shard.frameNumber}"][data-x="${blamed.shard.tileX}"][data-y="${blamed.shard.tileY}"]`;
    expect(await page.getAttribute(cell, 'class')).toContain('was-rejected');
    await page.click(cell);
    await page.waitForSelector(`#tile-detail .verdict.FAIL:has-text("${expected.kind} FAIL")`);
    expect(await page.textContent('#tile-detail')).toContain('rejected');
    // The timeline tells the story: a mismatch, the arbitration it caused, the conviction.
    const fraud = await prisma.verdict.findFirstOrThrow({
      where: { jobId: job.id, kind: 'FRAUD' },
    });
    await page.waitForSelector(
      `#timeline .k-convicted:has-text("frame ${fraud.frameNumber}: fraud fail")`,
    );
    await page.waitForSelector(`#timeline .k-arbitration:has-text("arbitration pass")`);
    await page.waitForSelector(
      `#timeline .k-mismatch:has-text("${expected.kind.toLowerCase()} fail")`,
    );
    await page.screenshot({
      path: join(ARTIFACTS_DIR, 'dashboard-rejected-tile.png'),
      fullPage: true,
    });

    // The farm view is for admin keys; there the cheater is blocklisted on the job.
    await page.goto(`${web.url}/dashboard/nodes`);
    await page.waitForSelector('p:text("needs an admin API key")');
    await signOut(page);
    await signIn(page, web.url, await createApiKey('operator', { admin: true }));
    await page.goto(`${web.url}/dashboard/nodes`);
    const row = `#nodes tr[data-node="${node!.id}"]`;
    await page.waitForSelector(`${row} a[href="/dashboard/jobs/${job.id}"]`);
    expect(await page.textContent(row)).toContain('lost an arbitration');
    // Every node that worked on the job shows what it runs and its reputation; the cheater's is
    // gone with its failed check.
    const workers = await prisma.result.findMany({
      where: { shard: { jobId: job.id } },
      distinct: ['nodeId'],
      select: { nodeId: true },
    });
    expect(workers.length).toBeGreaterThanOrEqual(2);
    for (const { nodeId } of workers) {
      const r = `#nodes tr[data-node="${nodeId}"]`;
      await page.waitForSelector(r);
      expect(await nodeCell(page, r, 'status')).toMatch(/^online/);
      expect(await nodeCell(page, r, 'capabilities')).toMatch(/^Blender \d+\.\d+.* threads/);
      expect(await nodeCell(page, r, 'reputation')).toMatch(/^\d+%/);
    }
    expect(await nodeCell(page, row, 'reputation')).toMatch(/^0%.*failed check/);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-nodes.png'), fullPage: true });

    // Payouts: this farm runs without a chain, so a requester's own list is empty and the page
    // says so (an admin sees the whole database's, other files' settlements included).
    await signOut(page);
    await signIn(page, web.url, await createApiKey('no-payouts'));
    await page.goto(`${web.url}/dashboard/payouts`);
    await page.waitForSelector('#payouts-message:text("No payouts yet.")');
  } finally {
    await cheater.stop();
  }
});

test("the payouts page lists settlements, slashes and refunds of the requester's jobs with their transaction hashes, live", async () => {
  // This farm runs without a chain: what the settlement would have written is written here.
  await signInAs(page, await createApiKey('payouts-artist'));
  const jobId = await insertJob(1, 2, 1, 'payouts-artist');
  const [payee, cheat] = [await insertNode('payee'), await insertNode('slashed')];
  // The settlement was signed again at higher fees before it was mined.
  const replaced = randomTxHash();
  const settled = await onChain(
    jobId,
    0,
    { kind: 'SETTLED', address: payee.address, nodeId: payee.id, amountWei: '3000000000000000' },
    [replaced],
  );
  const slashed = await onChain(jobId, 1, {
    kind: 'SLASHED',
    address: cheat.address,
    nodeId: cheat.id,
    amountWei: '500000000000',
  });
  // Another requester's settlement is not listed.
  const foreign = await onChain(await insertJob(1, 1, 1), 0, {
    kind: 'SETTLED',
    address: payee.address,
    nodeId: payee.id,
    amountWei: '7',
  });

  await page.goto(`${web.url}/dashboard/payouts`);
  await page.waitForSelector(`#payouts tr[data-payout="${slashed.id}"]`);
  const rows = () =>
    page.evaluate(`[...document.querySelectorAll('#payouts tbody tr')].map((tr) => ({
      id: tr.dataset.payout,
      cells: [...tr.cells].map((td) => td.textContent),
      amount: tr.querySelector('.amount').title,
    }))`) as Promise<{ id: string; cells: string[]; amount: string }[]>;
  // when, kind, job, node (its name), address, amount, transaction, status; newest first
  const expected = (e: typeof settled, kind: string, node: string, amount: string, tx: string) => ({
    id: e.id,
    cells: [expect.any(String), kind, jobId.slice(0, 8), node, e.address, amount, tx, 'confirmed'],
    amount: `${e.amountWei} wei`,
  });
  expect(await rows()).toEqual([
    expected(slashed, 'slashed', 'slashed', '500 gwei', slashed.txHash),
    expected(settled, 'settled', 'payee', '0.003 ETH', `${settled.txHash}replaced ${replaced}`),
  ]);
  expect(await page.$(`#payouts tr[data-payout="${foreign.id}"]`)).toBeNull();

  // The job's escrow is closed and the rest refunded: the page hears of it and reads the list again.
  const refunded = await onChain(jobId, 2, {
    kind: 'REFUNDED',
    address: Wallet.createRandom().address,
    amountWei: '1500000000000000',
  });
  const redis = new Redis(redisUrl());
  try {
    await redis.publish(
      `${prefix}:farm-events`,
      JSON.stringify(
        envelope('refund', {
          type: 'payout',
          kind: 'refunded',
          jobId,
          amountWei: refunded.amountWei,
          txHash: refunded.txHash,
        }),
      ),
    );
  } finally {
    redis.disconnect();
  }
  await page.waitForSelector(`#payouts tr[data-payout="${refunded.id}"]`, { timeout: 10_000 });
  expect((await rows())[0]).toEqual(
    expected(refunded, 'refunded', 'requester', '0.0015 ETH', refunded.txHash),
  );
  expect(await page.textContent('#payouts-message')).toBe('');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-payouts.png'), fullPage: true });
});

test('the nodes page shows who is online, what each node holds, its throughput and earnings, and turns a quiet node offline without an event', async () => {
  await signInAs(page, await createApiKey('nodes-operator', { admin: true }));
  // Nodes straight in the database: one holding a lease, having rendered a tile and been paid;
  // one that polled 45 s ago (online for 15 s more); one gone for 5 minutes.
  const jobId = await insertJob(1, 2, 1);
  const [held, done] = await prisma.shard.findMany({
    where: { jobId },
    orderBy: { tileX: 'asc' },
  });
  const busy = await insertNode('busy');
  const lease = await prisma.lease.create({
    data: { shardId: held.id, nodeId: busy.id, expiresAt: new Date(Date.now() + 3600_000) },
  });
  await prisma.shard.update({
    where: { id: held.id },
    data: { status: 'LEASED', leaseId: lease.id, leaseExpiresAt: lease.expiresAt, nodeId: busy.id },
  });
  const earlier = await prisma.lease.create({
    data: { shardId: done.id, nodeId: busy.id, status: 'COMPLETED', expiresAt: new Date() },
  });
  await prisma.result.create({
    data: {
      shardId: done.id,
      leaseId: earlier.id,
      nodeId: busy.id,
      storageKey: 'results/none.png',
      sha256: '0'.repeat(64),
      signature: '0x',
      renderMs: 2000,
    },
  });
  await onChain(jobId, 0, {
    kind: 'SETTLED',
    address: busy.address,
    nodeId: busy.id,
    amountWei: '2000000000000000',
  });
  const quiet = await insertNode('quiet', new Date(Date.now() - 45_000));
  const gone = await insertNode('gone', new Date(Date.now() - 5 * 60_000));

  await page.goto(`${web.url}/dashboard/nodes`);
  const row = (n: { id: string }) => `#nodes tr[data-node="${n.id}"]`;
  await page.waitForSelector(row(gone));
  expect(await nodeCell(page, row(busy), 'status')).toMatch(/^online/);
  expect(await nodeCell(page, row(busy), 'current shard')).toBe(
    `${jobId.slice(0, 8)} frame 1 tile 0,0`,
  );
  expect(await page.getAttribute(`${row(busy)} a`, 'href')).toBe(`/dashboard/jobs/${jobId}`);
  expect(await nodeCell(page, row(busy), 'throughput (10 min)')).toBe('1 tiles, 2 s rendering');
  expect(await nodeCell(page, row(busy), 'tiles')).toBe('1');
  expect(await nodeCell(page, row(busy), 'earnings')).toBe('0.002 ETH');
  expect(await nodeCell(page, row(quiet), 'status')).toMatch(/^online/);
  expect(await nodeCell(page, row(quiet), 'current shard')).toBe('');
  expect(await nodeCell(page, row(quiet), 'earnings')).toBe('–');
  expect(await nodeCell(page, row(gone), 'status')).toMatch(/^offline/);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'dashboard-nodes-status.png') });

  // Nothing happens on the farm; the page reads the list again by itself and sees the quiet one
  // offline (the server's online window is a minute since the last poll, the page's refresh 20 s).
  await page.waitForFunction(
    `${nodeCellText(row(quiet), 'status')}.startsWith('offline')`,
    undefined,
    {
      timeout: 40_000,
    },
  );
  expect(await nodeCell(page, row(busy), 'status')).toMatch(/^online/);
});

function envelope(id: string, event: Record<string, unknown>) {
  return { id, at: new Date().toISOString(), event } as {
    id: string;
    at: string;
    event: Record<string, string>;
  };
}

/**
 * From now on the page records every state each grid cell shows, by shard id, in order: class
 * changes (with the state each replaced, so two changes in one batch both count) and the cells a
 * resync builds afresh. `window.sameDocument` tells later whether the page was reloaded meanwhile.
 */
async function recordCellStates(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const stateOf = (cls) => /\\bs-([a-z]+)/.exec(cls || '')?.[1];
    const histories = (window.cellHistories = {});
    const note = (el, cls) => {
      const state = stateOf(cls);
      if (!state || !el.dataset?.shard) return;
      const h = (histories[el.dataset.shard] ??= []);
      if (h.at(-1) !== state) h.push(state);
    };
    const grid = document.getElementById('grid');
    grid.querySelectorAll('[data-shard]').forEach((el) => note(el, el.className));
    window.sameDocument = true;
    new MutationObserver((records) => {
      const touched = new Set();
      for (const r of records) {
        if (r.type === 'attributes') {
          note(r.target, r.oldValue);
          touched.add(r.target);
        } else {
          for (const n of r.addedNodes) {
            if (n.nodeType !== 1) continue;
            if (n.dataset.shard) touched.add(n);
            n.querySelectorAll('[data-shard]').forEach((el) => touched.add(el));
          }
        }
      }
      for (const el of touched) note(el, el.className);
    }).observe(grid, {
      subtree: true, childList: true, attributes: true, attributeOldValue: true,
      attributeFilter: ['class'],
    });
  })()`);
}

/** What recordCellStates saw: each cell's states in order, without repeats, by shard id. */
async function cellHistories(page: Page): Promise<Record<string, string[]>> {
  return (await page.evaluate('window.cellHistories')) as Record<string, string[]>;
}

/** The text of a row's cell on the nodes page, found by its column's heading. */
async function nodeCell(page: Page, row: string, column: string): Promise<string> {
  return (await page.evaluate(nodeCellText(row, column))) as string;
}

/** nodeCell's expression, to run in the page (e.g. to wait for a cell to change). */
function nodeCellText(row: string, column: string): string {
  return `(() => {
    const headings = [...document.querySelectorAll('#nodes thead th')].map((th) => th.textContent);
    const row = document.querySelector(${JSON.stringify(row)});
    return row.cells[headings.indexOf(${JSON.stringify(column)})].textContent;
  })()`;
}

/** Fetches a link's target inside the page (with its session cookie). */
async function fetchInPage(page: Page, selector: string): Promise<Buffer> {
  return fetchUrlInPage(page, (await page.getAttribute(selector, 'href'))!);
}

async function fetchUrlInPage(page: Page, url: string): Promise<Buffer> {
  const bytes = await page.evaluate(`fetch(${JSON.stringify(url)}).then(async (res) => {
    if (!res.ok) throw new Error(res.url + ': ' + res.status);
    return [...new Uint8Array(await res.arrayBuffer())];
  })`);
  return Buffer.from(bytes as number[]);
}

/** Signs the page in with `key`, signing out whoever was signed in. */
async function signInAs(page: Page, key: string): Promise<void> {
  await page.goto(`${web.url}/dashboard`);
  await page.waitForSelector('#sign-out, #sign-in input[name="apiKey"]');
  if (await page.$('#sign-out')) await signOut(page);
  await signIn(page, web.url, key);
}

/** A node row straight in the database (never logged in). */
function insertNode(name: string, lastSeenAt = new Date()) {
  return prisma.node.create({
    data: { address: Wallet.createRandom().address, name, lastSeenAt },
  });
}

/**
 * A ledger entry of a job and the confirmed escrow transaction it came with, as the settlement
 * writes them: settled to a node, slashed from one, or refunded to the requester.
 */
async function onChain(
  jobId: string,
  seq: number,
  entry: {
    kind: 'SETTLED' | 'SLASHED' | 'REFUNDED';
    address: string;
    amountWei: string;
    nodeId?: string;
  },
  replacedHashes: string[] = [],
) {
  const txHash = randomTxHash();
  const txKind = ({ SETTLED: 'SETTLE', SLASHED: 'SLASH', REFUNDED: 'CLOSE' } as const)[entry.kind];
  const tx = await prisma.chainTx.create({
    data: {
      ...{ jobId, seq, kind: txKind, status: 'CONFIRMED', args: {}, txHash, blockNumber: 1 },
      replacedHashes,
    },
  });
  const { id } = await prisma.ledgerEntry.create({ data: { jobId, ...entry, chainTxId: tx.id } });
  return { id, txHash, ...entry };
}

function randomTxHash(): string {
  return `0x${randomUUID().replace(/-/g, '').repeat(2)}`;
}

/** A planned job of this key, straight in the database (cancelled, so no agent leases it). */
async function insertJob(
  frames: number,
  tilesX: number,
  tilesY: number,
  owner = 'dashboard-artist',
): Promise<string> {
  const key = await prisma.apiKey.findFirstOrThrow({
    where: { name: owner },
    orderBy: { createdAt: 'desc' },
  });
  const sha256 = randomUUID().replace(/-/g, '').padEnd(64, '0');
  await prisma.scene.create({
    data: { sha256, size: BigInt(1), storageKey: `scenes/${sha256}.blend` },
  });
  const job = await prisma.job.create({
    data: {
      apiKeyId: key.id,
      sceneSha256: sha256,
      settings: {},
      seed: 0,
      status: 'CANCELLED',
      plannedAt: new Date(),
    },
  });
  await prisma.frame.createMany({
    data: Array.from({ length: frames }, (_, i) => ({ jobId: job.id, number: i + 1 })),
  });
  const rows = await prisma.frame.findMany({
    where: { jobId: job.id },
    select: { id: true, number: true },
  });
  const shards = rows.flatMap((f) =>
    Array.from({ length: tilesX * tilesY }, (_, t) => ({
      jobId: job.id,
      frameId: f.id,
      frameNumber: f.number,
      tileX: t % tilesX,
      tileY: Math.floor(t / tilesX),
      x: (t % tilesX) * 40,
      y: Math.floor(t / tilesX) * 30,
      width: 40,
      height: 30,
      marginLeft: 0,
      marginTop: 0,
      marginRight: 0,
      marginBottom: 0,
    })),
  );
  await prisma.shard.createMany({ data: shards });
  return job.id;
}
