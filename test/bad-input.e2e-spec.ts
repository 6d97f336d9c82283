// Bad input gets a clear 4xx and changes nothing: uploads, settings, node logins, lease calls.
import { completionMessage, LeaseGrant, sessionMessage } from '@tessera/protocol';
import { HDNodeWallet, Wallet } from 'ethers';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { Coordinator, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { makeTestScene } from '@tessera/blender';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(120_000);

beforeAll(() => quietFarm());

const prisma = testPrisma();
let coordinator: Coordinator;
let client: RequesterClient;
let storageDir: string;
let blend: Buffer;

beforeAll(async () => {
  storageDir = tmpDir();
  coordinator = await startCoordinator({
    QUEUE_PREFIX: uniqueQueuePrefix('bad-input'),
    STORAGE_DIR: storageDir,
    LEASE_TTL_MS: '4000',
    MAX_SCENE_BYTES: String(4 * 1024 * 1024),
    NODE_ENV: 'test',
  });
  client = new RequesterClient(coordinator.url, await createApiKey('bad-input'));
  blend = await readFile(
    await makeTestScene(join(tmpDir(), 'scene.blend'), {
      width: 64,
      height: 36,
      samples: 4,
      frames: 2,
    }),
  );
});

afterAll(async () => {
  await coordinator?.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

async function listFiles(dir: string): Promise<string[]> {
  try {
    // files only: an emptied directory holds nothing
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** Runs `act` and checks that no job, scene or stored blob appeared. */
async function changesNothing(act: () => Promise<void>) {
  const before = [
    await prisma.job.count(),
    await prisma.scene.count(),
    await listFiles(storageDir),
  ];
  await act();
  const after = [await prisma.job.count(), await prisma.scene.count(), await listFiles(storageDir)];
  expect(after).toEqual(before);
}

async function expectRejected(
  scene: Buffer,
  fields: Record<string, string | number>,
  status: number,
  message: RegExp,
) {
  await changesNothing(async () => {
    const res = await client.submitRaw(scene, fields);
    const body = (await res.json()) as { message: string | string[] };
    expect(res.status).toBe(status);
    expect([body.message].flat().join('; ')).toMatch(message);
  });
}

describe('job submission', () => {
  it('requires a valid API key', async () => {
    const res = await new RequesterClient(coordinator.url, 'tsk_wrong').submitRaw(blend);
    expect(res.status).toBe(401);
    const none = await fetch(`${coordinator.url}/api/v1/jobs`, { method: 'POST' });
    expect(none.status).toBe(401);
  });

  it('refuses files that are not .blend files', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    await expectRejected(png, {}, 400, /not a \.blend/i);
    await expectRejected(Buffer.from('hello world'), {}, 400, /not a \.blend/i);
  });

  it('refuses empty and truncated .blend files', async () => {
    await expectRejected(Buffer.alloc(0), {}, 400, /empty/i);
    await expectRejected(blend.subarray(0, Math.floor(blend.length / 2)), {}, 400, /truncated/i);
  });

  it('refuses nonsense settings', async () => {
    await expectRejected(blend, { tilesX: 0 }, 400, /tilesX/);
    await expectRejected(
      blend,
      { frameStart: 5, frameEnd: 2 },
      400,
      /frameEnd must not be before frameStart/,
    );
    await expectRejected(blend, { tilesX: 2, tileWidth: 32 }, 400, /cannot be combined/);
    await expectRejected(blend, { colour: 'red' }, 400, /should not exist/);
    await expectRejected(blend, { samples: 'many' }, 400, /samples/);
  });

  it('refuses margins as large as the tiles once the scene is known', async () => {
    await expectRejected(
      blend,
      { tilesX: 2, tilesY: 2, overlap: 40 },
      422,
      /overlap 40px must be smaller/,
    );
  });

  it('refuses scenes that cannot render on a node: external files, no camera', async () => {
    const external = await readFile(
      await makeTestScene(join(tmpDir(), 'external.blend'), {
        width: 64,
        height: 36,
        samples: 4,
        missingImage: true,
      }),
    );
    await expectRejected(external, {}, 422, /external files; pack them/);
    const noCamera = await readFile(
      await makeTestScene(join(tmpDir(), 'no-camera.blend'), {
        width: 64,
        height: 36,
        samples: 4,
        noCamera: true,
      }),
    );
    await expectRejected(noCamera, {}, 422, /camera/);
  });

  it('refuses uploads over the size limit', async () => {
    await changesNothing(async () => {
      const res = await client.submitRaw(Buffer.concat([blend, Buffer.alloc(5 * 1024 * 1024)]));
      expect(res.status).toBe(413);
    });
  });
});

describe('node login', () => {
  it('refuses a signature by another key and a replayed signature', async () => {
    const wallet = Wallet.createRandom();
    const challenge = async () =>
      (await (
        await fetch(`${coordinator.url}/api/v1/nodes/challenge`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ address: wallet.address }),
        })
      ).json()) as { nonce: string };
    const session = (body: object) =>
      fetch(`${coordinator.url}/api/v1/nodes/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const c1 = await challenge();
    const forged = await Wallet.createRandom().signMessage(
      sessionMessage(wallet.address, c1.nonce),
    );
    const bad = await session({ address: wallet.address, nonce: c1.nonce, signature: forged });
    expect(bad.status).toBe(401);

    const c2 = await challenge();
    const signature = await wallet.signMessage(sessionMessage(wallet.address, c2.nonce));
    const body = { address: wallet.address, nonce: c2.nonce, signature };
    expect((await session(body)).status).toBe(200);
    const replay = await session(body);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { message: string }).message).toMatch(/already used/);

    const garbage = await session({ address: 'not-an-address', nonce: 'x', signature: '0x1' });
    expect(garbage.status).toBe(400);
  });
});

describe('leases', () => {
  interface Node {
    wallet: HDNodeWallet;
    token: string;
  }

  async function node(): Promise<Node> {
    const wallet = Wallet.createRandom();
    const call = async (path: string, body: object) =>
      (await (
        await fetch(`${coordinator.url}/api/v1/nodes/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json()) as { nonce: string; token: string };
    const { nonce } = await call('challenge', { address: wallet.address });
    const signature = await wallet.signMessage(sessionMessage(wallet.address, nonce));
    const { token } = await call('session', { address: wallet.address, nonce, signature });
    return { wallet, token };
  }

  const post = (n: Node, path: string, body: object = {}) =>
    fetch(`${coordinator.url}/api/v1/leases${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${n.token}` },
      body: JSON.stringify(body),
    });

  async function lease(n: Node): Promise<LeaseGrant> {
    const res = await post(n, '', { waitMs: 5000 });
    expect(res.status).toBe(201);
    return (await res.json()) as LeaseGrant;
  }

  const png = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 4, background: '#808080' } })
      .png()
      .toBuffer();
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const upload = (l: LeaseGrant, body: Buffer) =>
    fetch(l.upload.url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body });
  const complete = async (
    n: Node,
    l: LeaseGrant,
    bytes: Buffer,
    signer: HDNodeWallet = n.wallet,
  ) => {
    const hash = sha(bytes);
    return post(n, `/${l.leaseId}/complete`, {
      sha256: hash,
      renderMs: 5,
      signature: await signer.signMessage(completionMessage(l.leaseId, hash)),
    });
  };

  it('refuses bad completions, changes nothing, then accepts the right one once', async () => {
    const job = await client.submit(blend, {
      tilesX: 2,
      tilesY: 1,
      overlap: 4,
      frameStart: 1,
      frameEnd: 1,
    });
    expect(job.status).toBe('RENDERING');
    const [a, b] = [await node(), await node()];
    const l = await lease(a);
    const good = await png(l.region.width, l.region.height);

    // someone else's lease
    expect((await complete(b, l, good)).status).toBe(403);
    expect((await post(b, `/${l.leaseId}/heartbeat`)).status).toBe(403);
    // nothing uploaded yet
    expect((await complete(a, l, good)).status).toBe(422);
    // an image of the wrong size
    const small = await png(l.region.width - 1, l.region.height);
    expect((await upload(l, small)).status).toBe(200);
    const wrongSize = await complete(a, l, small);
    expect(wrongSize.status).toBe(422);
    expect(((await wrongSize.json()) as { message: string }).message).toMatch(
      /is \d+x\d+, the lease is for/,
    );
    // not an image at all
    const junk = Buffer.from('definitely not a png');
    expect((await upload(l, junk)).status).toBe(200);
    expect((await complete(a, l, junk)).status).toBe(422);
    // the right size in its header, but cut short after it: would pass a header read, then
    // fail to decode at verification for ever
    const cut = good.subarray(0, good.length - 20);
    expect((await upload(l, cut)).status).toBe(200);
    const broken = await complete(a, l, cut);
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as { message: string }).message).toMatch(
      /uploaded tile is not a valid PNG: cut short/,
    );
    // hash that does not match the upload: the last one counts, not an earlier one this
    // coordinator may still hold in memory
    expect((await upload(l, junk)).status).toBe(200);
    expect((await upload(l, good)).status).toBe(200);
    const lying = await post(a, `/${l.leaseId}/complete`, {
      sha256: sha(junk),
      renderMs: 1,
      signature: await a.wallet.signMessage(completionMessage(l.leaseId, sha(junk))),
    });
    expect(lying.status).toBe(422);
    // signed by another key
    expect((await complete(a, l, good, b.wallet)).status).toBe(401);
    // malformed body
    expect((await post(a, `/${l.leaseId}/complete`, { sha256: 'x' })).status).toBe(400);

    const shard = await prisma.shard.findUniqueOrThrow({ where: { id: l.shardId } });
    expect(shard.status).toBe('LEASED');
    expect(await prisma.result.count({ where: { shardId: l.shardId } })).toBe(0);

    expect((await complete(a, l, good)).status).toBe(200);
    // a replayed completion is refused and nothing is accepted twice
    expect((await complete(a, l, good)).status).toBe(409);
    expect(await prisma.result.count({ where: { shardId: l.shardId } })).toBe(1);
  });

  it('refuses heartbeats and completions for an expired lease, and re-leases the shard', async () => {
    await client.submit(blend, { tilesX: 1, tilesY: 1, frameStart: 1, frameEnd: 1 });
    const a = await node();
    const l = await lease(a);
    const good = await png(l.region.width, l.region.height);
    expect((await upload(l, good)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 4600));
    expect((await post(a, `/${l.leaseId}/heartbeat`)).status).toBe(410);
    expect((await complete(a, l, good)).status).toBe(410);
    expect(await prisma.result.count({ where: { shardId: l.shardId } })).toBe(0);
    // the lease sweeper (each second) puts the lapsed shard back; then it is leased again
    const deadline = Date.now() + 10_000;
    while (
      (await prisma.shard.findUniqueOrThrow({ where: { id: l.shardId } })).status !== 'PENDING'
    ) {
      if (Date.now() > deadline) throw new Error('the lapsed shard did not come back');
      await new Promise((r) => setTimeout(r, 100));
    }
    const expired = await prisma.lease.findUniqueOrThrow({ where: { id: l.leaseId } });
    expect(expired.status).toBe('EXPIRED');
    const again = await lease(await node());
    expect(again.shardId).toBe(l.shardId);
  });

  it('refuses lease calls without a valid node session', async () => {
    const res = await fetch(`${coordinator.url}/api/v1/leases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer forged.token' },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });
});
