import {
  API_PREFIX,
  ChallengeResponse,
  CompleteRequest,
  eip191Sign,
  HeartbeatResponse,
  LeaseGrant,
  sessionMessage,
  SessionResponse,
} from '@tessera/protocol';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BaseWallet, type Signer } from 'ethers';
import type { SceneDownload } from '../scenes/scene-cache';

/** GET /api/v1/nodes/me/earnings: wei amounts as decimal strings. */
export interface NodeEarnings {
  address: string;
  accruedWei: string;
  settledWei: string;
  pendingWei: string;
  slashedWei: string;
}

/** An HTTP error from the coordinator, with its status so callers can tell gone from broken. */
export class CoordinatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'CoordinatorError';
  }
}

/** The lease is no longer ours (ended, taken back, expired, someone else's): stop working on it. */
export function leaseGone(e: unknown): boolean {
  return e instanceof CoordinatorError && [403, 404, 409, 410].includes(e.status);
}

/**
 * Worth trying again later: the coordinator (or its storage) is down, restarting or overloaded.
 * Anything else is an answer about the request itself.
 */
export function transient(e: unknown): boolean {
  if (e instanceof CoordinatorError) return e.status >= 500 || e.status === 429 || e.status === 408;
  return e instanceof Error && e.name !== 'AbortError';
}

/** The agent's side of the lease protocol (libs/protocol holds the shared shapes). */
export class CoordinatorClient {
  private token?: string;

  constructor(
    private readonly baseUrl: string,
    private readonly wallet: Signer & { address: string },
  ) {}

  get address(): string {
    return this.wallet.address;
  }

  /**
   * Challenge, EIP-191 signature, session token: the node's key is its identity. Each login
   * replaces what the node registered, its ask price (wei per work unit) included.
   */
  async login(
    name?: string,
    capabilities?: Record<string, unknown>,
    askPriceWei?: string,
  ): Promise<SessionResponse> {
    const challenge = await this.call<ChallengeResponse>('POST', '/nodes/challenge', {
      address: this.wallet.address,
    });
    const signature = await this.signMessage(sessionMessage(this.wallet.address, challenge.nonce));
    const session = await this.call<SessionResponse>('POST', '/nodes/session', {
      address: this.wallet.address,
      nonce: challenge.nonce,
      signature,
      name,
      capabilities,
      askPriceWei,
    });
    this.token = session.token;
    return session;
  }

  /**
   * Long-polls for work; null when none came within waitMs. `held`: the leases this node holds
   * now, so that the coordinator can take back a grant whose answer never arrived here.
   */
  async requestLease(
    waitMs: number,
    held: string[],
    signal?: AbortSignal,
  ): Promise<LeaseGrant | null> {
    return this.call<LeaseGrant | null>('POST', '/leases', { waitMs, held }, signal);
  }

  /** progress (0..1) of the render, parsed from Blender's output, for the coordinator's views */
  heartbeat(leaseId: string, progress?: number): Promise<HeartbeatResponse> {
    return this.call(
      'POST',
      `/leases/${leaseId}/heartbeat`,
      progress === undefined ? {} : { progress: Math.round(progress * 1000) / 1000 },
    );
  }

  complete(leaseId: string, body: CompleteRequest): Promise<unknown> {
    return this.call('POST', `/leases/${leaseId}/complete`, body);
  }

  fail(leaseId: string, reason: string): Promise<unknown> {
    return this.call('POST', `/leases/${leaseId}/fail`, { reason: reason.slice(0, 2000) });
  }

  release(leaseId: string): Promise<unknown> {
    return this.call('POST', `/leases/${leaseId}/release`, {});
  }

  /** The operator's ledger on this coordinator (needs a session: login first). */
  earnings(): Promise<NodeEarnings> {
    return this.call<NodeEarnings>('GET', '/nodes/me/earnings', undefined);
  }

  /** EIP-191, as the coordinator checks it: natively when the key is in memory (once per tile). */
  async signMessage(message: string): Promise<string> {
    if (this.wallet instanceof BaseWallet) return eip191Sign(this.wallet.privateKey, message);
    return this.wallet.signMessage(message);
  }

  /** Downloads from byte `offset` (HTTP Range); the server may answer with the whole file. */
  async download(url: string, offset = 0): Promise<SceneDownload> {
    const res = await fetch(url, offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {});
    if (res.status === 416) return this.download(url, 0); // our partial file is stale
    if (!res.ok || !res.body) {
      throw new CoordinatorError(res.status, `download failed: ${res.status}`);
    }
    const stream = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    const length = Number(res.headers.get('content-length'));
    if (res.status === 206) {
      const total = Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
      return { stream, offset, total: Number.isFinite(total) ? total : undefined };
    }
    return { stream, offset: 0, total: Number.isFinite(length) ? length : undefined };
  }

  async upload(
    url: string,
    file: string,
    contentType: string,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<void> {
    const { size } = await stat(file);
    const source = createReadStream(file);
    let sent = 0;
    source.on('data', (chunk) => onProgress?.((sent += chunk.length), size));
    const res = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': contentType, 'content-length': String(size) },
      body: Readable.toWeb(source) as unknown as RequestInit['body'],
      duplex: 'half',
    } as RequestInit);
    if (!res.ok)
      throw new CoordinatorError(res.status, `upload failed: ${res.status} ${await res.text()}`);
  }

  private async call<T>(
    method: string,
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}${API_PREFIX}${path}`, {
      method,
      headers,
      body: JSON.stringify(body),
      signal,
    });
    if (res.status === 204) return null as T;
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string | string[] };
        message = Array.isArray(parsed.message)
          ? parsed.message.join('; ')
          : (parsed.message ?? text);
      } catch {
        // not JSON: keep the raw text
      }
      throw new CoordinatorError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return JSON.parse(text) as T;
  }
}
