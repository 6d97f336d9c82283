// Simulated render-node agents: the real lease protocol over HTTP (Ethereum-wallet login, lease,
// upload to the presigned URL, signed completion) without Blender, uploading a tiny PNG instead of
// a render. Used by the lease-concurrency e2e test and the coordinator benchmarks; the seeding
// helper puts a planned job straight into the database, so no scene has to be inspected.
import {
  CompleteRequest,
  completionMessage,
  eip191Sign,
  LeaseGrant,
  sessionMessage,
} from '@tessera/protocol';
import { HDNodeWallet, Wallet } from 'ethers';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { JobsRepository } from '../../apps/coordinator/src/jobs/jobs.repository';
import { planJob } from '../../apps/coordinator/src/planning/planner';
import { PrismaService } from '../../apps/coordinator/src/prisma/prisma.service';

export interface HttpResult<T> {
  status: number;
  body: T;
  /** request sent to response body read */
  ms: number;
}

/**
 * Keep-alive connections for every simulated agent of the process. node:http rather than fetch:
 * the agents share the benchmark machine's cores with the coordinator they load, and fetch costs
 * several times more CPU per request.
 */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 512 });

/** One HTTP request; the reply's status and body. */
function request(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: Buffer; signal?: AbortSignal },
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: init.method,
        headers: { ...init.headers, 'content-length': String(init.body?.length ?? 0) },
        agent: keepAlive,
        signal: init.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** POST a JSON body (with a node session token when given); parses a JSON reply. */
export async function postJson<T>(
  url: string,
  token: string | undefined,
  body: unknown,
  signal?: AbortSignal,
): Promise<HttpResult<T>> {
  const started = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: Buffer.from(JSON.stringify(body)),
    signal,
  });
  const text = res.body.toString('utf8');
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : null) as T,
    ms: performance.now() - started,
  };
}

/** The bytes a simulated agent uploads for a lease, and their SHA-256. */
export interface SimulatedTile {
  bytes: Buffer;
  sha256: string;
}

/** A solid-colour PNG of the leased size (the coordinator checks format and dimensions). */
export async function solidTile(
  width: number,
  height: number,
  background = '#336699',
): Promise<SimulatedTile> {
  const bytes = await sharp({ create: { width, height, channels: 4, background } })
    .png()
    .toBuffer();
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export interface LeaseResult {
  /** 200/201 with a lease, 204 when no work came within waitMs, anything else is an error */
  status: number;
  lease: LeaseGrant | null;
  /** the POST /leases round trip */
  ms: number;
}

/** One node: its own wallet (so its own identity) and session token. */
export class SimulatedAgent {
  private token?: string;

  constructor(readonly wallet: HDNodeWallet = Wallet.createRandom()) {}

  get address(): string {
    return this.wallet.address;
  }

  /**
   * Challenge, EIP-191 signature over it, session token: how every agent logs in. `askPriceWei`:
   * the node's asking price per work unit, as the render-node's TESSERA_ASK_PRICE_WEI sends it.
   */
  async login(base: string, askPriceWei?: string): Promise<string> {
    const c = await postJson<{ nonce: string }>(`${base}/api/v1/nodes/challenge`, undefined, {
      address: this.wallet.address,
    });
    if (c.status !== 201 && c.status !== 200) throw new Error(`challenge: ${c.status}`);
    const signature = eip191Sign(
      this.wallet.privateKey,
      sessionMessage(this.wallet.address, c.body.nonce),
    );
    const s = await postJson<{ token: string }>(`${base}/api/v1/nodes/session`, undefined, {
      address: this.wallet.address,
      nonce: c.body.nonce,
      signature,
      askPriceWei,
    });
    if (s.status !== 201 && s.status !== 200) throw new Error(`session: ${s.status}`);
    this.token = s.body.token;
    return this.token;
  }

  /**
   * Long-polls POST /leases (any replica: sessions are valid on all of them). `held`: the leases
   * to name as held (real agents name theirs; unset, as in the benchmarks, names none).
   */
  async requestLease(
    base: string,
    waitMs: number,
    signal?: AbortSignal,
    held?: string[],
  ): Promise<LeaseResult> {
    const res = await postJson<LeaseGrant | null>(
      `${base}/api/v1/leases`,
      this.session(),
      { waitMs, held },
      signal,
    );
    const granted = res.status === 200 || res.status === 201;
    return { status: res.status, lease: granted ? res.body : null, ms: res.ms };
  }

  /** PUTs the tile to the lease's presigned upload URL; returns the HTTP status. */
  async upload(lease: LeaseGrant, tile: SimulatedTile): Promise<number> {
    const res = await request(lease.upload.url, {
      method: lease.upload.method,
      headers: { 'content-type': lease.upload.contentType },
      body: tile.bytes,
    });
    return res.status;
  }

  /** The completion body: the tile's hash, signed together with the lease id by this wallet. */
  async completion(leaseId: string, tile: SimulatedTile, renderMs = 1): Promise<CompleteRequest> {
    return {
      sha256: tile.sha256,
      renderMs,
      signature: eip191Sign(this.wallet.privateKey, completionMessage(leaseId, tile.sha256)),
    };
  }

  complete(base: string, leaseId: string, body: CompleteRequest): Promise<HttpResult<unknown>> {
    return postJson(`${base}/api/v1/leases/${leaseId}/complete`, this.session(), body);
  }

  fail(base: string, leaseId: string, reason: string): Promise<HttpResult<unknown>> {
    return postJson(`${base}/api/v1/leases/${leaseId}/fail`, this.session(), { reason });
  }

  release(base: string, leaseId: string): Promise<HttpResult<unknown>> {
    return postJson(`${base}/api/v1/leases/${leaseId}/release`, this.session(), {});
  }

  /**
   * Does the work of a lease the way an agent does after rendering: upload, sign, complete.
   * Returns the step that stopped it (or `complete` with status 200) and the completion body,
   * so a caller can replay it.
   */
  async finish(
    base: string,
    lease: LeaseGrant,
    tile: SimulatedTile,
  ): Promise<{
    step: 'upload' | 'complete';
    status: number;
    body?: CompleteRequest;
    message?: string;
  }> {
    const up = await this.upload(lease, tile);
    if (up !== 200) return { step: 'upload', status: up };
    const body = await this.completion(lease.leaseId, tile);
    const done = await this.complete(base, lease.leaseId, body);
    const message = (done.body as { message?: string } | null)?.message;
    return { step: 'complete', status: done.status, body, message };
  }

  private session(): string {
    if (!this.token) throw new Error('simulated agent is not logged in');
    return this.token;
  }
}

export interface SyntheticJobOptions {
  frames: number;
  /** tiles per side; every tile is tilePx x tilePx, so the frame is (grid*tilePx)^2 */
  grid: number;
  tilePx?: number;
  /** label for the scene row (no blend file exists: simulated agents never download it) */
  label?: string;
  /**
   * `off` by default: simulated agents upload placeholder pixels, so there is nothing to verify
   * unless every agent uploads the same pixels (then overlaps and crop checks agree)
   */
  verification?: 'off' | 'light' | 'standard' | 'paranoid';
}

/**
 * A job planned into frames x grid x grid shards, straight into the database (JobsRepository
 * createJob + savePlan, as planning does), for simulated agents. Planning normally wakes idle
 * agents through the work signal; this does not, so agents find the shards on their next poll.
 */
export async function seedSyntheticJob(
  prisma: PrismaService,
  apiKeyId: string,
  opts: SyntheticJobOptions,
): Promise<string> {
  const tilePx = opts.tilePx ?? 8;
  const size = opts.grid * tilePx;
  const sha = createHash('sha256')
    .update(opts.label ?? 'simulated-scene')
    .digest('hex');
  await prisma.scene.upsert({
    where: { sha256: sha },
    create: { sha256: sha, size: 1n, storageKey: `scenes/${sha}.blend` },
    update: {},
  });
  const jobs = new JobsRepository(prisma);
  const settings = {
    tilesX: opts.grid,
    tilesY: opts.grid,
    overlap: 0,
    samples: null,
    format: 'png' as const,
    verification: opts.verification ?? 'off',
  };
  const { id } = await jobs.createJob(apiKeyId, sha, settings);
  const plan = planJob(
    { width: size, height: size, frameStart: 1, frameEnd: opts.frames, frameStep: 1 },
    settings,
  );
  // nobody is paid for placeholder pixels: no escrow terms
  const terms = { payment: 'NONE' as const, priceWei: 0n, depositWei: 0n };
  await jobs.savePlan(id, { resolution: { width: size, height: size } }, 0, plan, terms);
  return id;
}
