// A small requester-side client for the jobs API (demo, benchmarks, tests).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export type JobFields = Record<string, string | number | undefined>;

export interface JobView {
  id: string;
  status: string;
  error: string | null;
  progress: {
    frames: { total: number; done: number };
    tiles: { total: number; done: number };
    checksOpen: number;
  };
  frames: {
    number: number;
    status: string;
    image: string | null;
    tiles: {
      x: number;
      y: number;
      status: string;
      verified: boolean;
      nodeId: string | null;
      attempts: number;
    }[];
  }[];
  timings: { wallMs: number | null; renderMs: number };
  payment: {
    state: string;
    priceWei: string | null;
    depositWei: string | null;
    fundedWei: string | null;
    note: string | null;
  };
  /** time left while planning or rendering, from the tile rate so far */
  etaMs: number | null;
  /** node time so far and, with payouts, what the verified renders cost */
  cost: { renderMs: number; wei: string | null };
  [key: string]: unknown;
}

export interface QuoteView {
  workUnits: number;
  priceWei: string;
  workWei: string;
  verificationWei: string;
  depositWei: string;
  payment: string;
  escrow: { chainId: string; address: string; jobKey: string } | null;
}

export interface LedgerView {
  payment: string;
  fundedWei: string | null;
  entries: {
    kind: 'ACCRUED' | 'SETTLED' | 'SLASHED' | 'REFUNDED';
    address: string;
    amountWei: string;
    txHash: string | null;
  }[];
}

export interface VerdictView {
  id: string;
  frame: number;
  kind: 'OVERLAP' | 'CROP' | 'RINGER' | 'ARBITRATION' | 'FRAUD';
  outcome: 'PASS' | 'FAIL' | 'UNRESOLVED';
  nodes: string[];
  evidence: Record<string, unknown>;
}

export class RequesterClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  /** POST /api/v1/jobs; returns the raw response so callers can check error statuses. */
  async submitRaw(scene: Buffer | string, fields: JobFields = {}, filename?: string) {
    const bytes = typeof scene === 'string' ? await readFile(scene) : scene;
    const form = new FormData();
    form.append(
      'scene',
      new Blob([bytes]),
      filename ?? (typeof scene === 'string' ? basename(scene) : 'scene.blend'),
    );
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, String(v));
    return fetch(`${this.baseUrl}/api/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}` },
      body: form,
    });
  }

  async submit(scene: Buffer | string, fields: JobFields = {}): Promise<JobView> {
    const res = await this.submitRaw(scene, fields);
    if (!res.ok) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as JobView;
  }

  async job(id: string): Promise<JobView> {
    const res = await fetch(`${this.baseUrl}/api/v1/jobs/${id}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    if (!res.ok) throw new Error(`job ${id}: ${res.status} ${await res.text()}`);
    return (await res.json()) as JobView;
  }

  verdicts(id: string): Promise<VerdictView[]> {
    return this.get(`/api/v1/jobs/${id}/verdicts`);
  }

  quote(id: string): Promise<QuoteView> {
    return this.get(`/api/v1/jobs/${id}/quote`);
  }

  payouts(id: string): Promise<LedgerView> {
    return this.get(`/api/v1/jobs/${id}/payouts`);
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async frame(id: string, frame: number): Promise<Buffer> {
    const res = await fetch(`${this.baseUrl}/api/v1/jobs/${id}/frames/${frame}`, {
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    if (!res.ok) throw new Error(`frame ${frame}: ${res.status} ${await res.text()}`);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Polls until the job is finished (or failed); `onProgress` sees every poll. */
  async waitForJob(
    id: string,
    opts: { timeoutMs: number; intervalMs?: number; onProgress?: (job: JobView) => void },
  ): Promise<JobView> {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const job = await this.job(id);
      opts.onProgress?.(job);
      if (['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
      if (Date.now() > deadline) {
        throw new Error(`job ${id} not finished after ${opts.timeoutMs} ms (status ${job.status})`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
    }
  }
}
