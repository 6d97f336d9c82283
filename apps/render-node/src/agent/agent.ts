import { BlenderTileWorker, TileRenderRequest } from '@tessera/blender';
import { completionMessage, LeaseGrant } from '@tessera/protocol';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CoordinatorClient, CoordinatorError } from '../coordinator/coordinator-client';
import { SceneCache } from '../scenes/scene-cache';
import { probeCapabilities } from './capabilities';

export interface AgentOptions {
  workDir: string;
  blenderPath: string;
  threads?: number;
  renderTimeoutMs: number;
  pollWaitMs: number;
  name?: string;
  log: (line: string) => void;
  /** Test seam: the cheat catalogue (test/support/cheats.ts) changes one behaviour of a real agent. */
  tweaks?: RenderTweaks;
}

export interface RenderTweaks {
  request?: (req: TileRenderRequest, lease: LeaseGrant) => TileRenderRequest;
  tile?: (file: string, lease: LeaseGrant) => Promise<void>;
}

/**
 * The lease loop: ask for work, render it with a persistent Blender worker for the scene, upload,
 * complete. One worker per scene stays alive between tiles (Blender's start-up costs more than a
 * small tile); a lease that cannot be finished is given back so another node takes it at once.
 */
export class Agent {
  private worker?: { sha256: string; process: BlenderTileWorker };
  private readonly scenes: SceneCache;
  private stopping = false;
  private readonly poll = new AbortController();
  private current?: LeaseGrant;
  private done?: Promise<void>;

  constructor(
    private readonly client: CoordinatorClient,
    private readonly opts: AgentOptions,
  ) {
    this.scenes = new SceneCache(join(opts.workDir, 'scenes'));
  }

  start(): Promise<void> {
    this.done = this.run();
    return this.done;
  }

  /** Graceful stop: gives back the current lease (re-leased at once elsewhere) and exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poll.abort();
    const lease = this.current;
    if (lease) {
      this.worker?.process.kill();
      await this.client.release(lease.leaseId).catch(() => undefined);
    }
    await this.done?.catch(() => undefined);
    await this.worker?.process.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const capabilities = await probeCapabilities(this.opts.blenderPath, this.opts.threads);
    const session = await this.client.login(this.opts.name, { ...capabilities });
    this.opts.log(`registered as ${session.address} (node ${session.nodeId})`);
    let backoff = 500;
    while (!this.stopping) {
      let lease: LeaseGrant | null;
      try {
        lease = await this.client.requestLease(this.opts.pollWaitMs, this.poll.signal);
        backoff = 500;
      } catch (e) {
        if (this.stopping) break;
        if (e instanceof CoordinatorError && e.status === 401) {
          await this.client.login(this.opts.name, { ...capabilities }).catch(() => undefined);
        } else {
          this.opts.log(`coordinator unreachable (${(e as Error).message}); retrying`);
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      if (!lease || this.stopping) continue;
      this.current = lease;
      try {
        await this.work(lease);
      } catch (e) {
        if (!this.stopping) {
          this.opts.log(`lease ${lease.leaseId} failed: ${(e as Error).message}`);
          await this.client.fail(lease.leaseId, (e as Error).message).catch(() => undefined);
        }
      } finally {
        this.current = undefined;
      }
    }
  }

  private async work(lease: LeaseGrant): Promise<void> {
    const blend = await this.scenes.get(lease.scene.sha256, () =>
      this.client.download(lease.scene.url),
    );
    const worker = await this.workerFor(lease.scene.sha256, blend);
    const dir = join(this.opts.workDir, 'tiles');
    await mkdir(dir, { recursive: true });
    const out = join(dir, `${lease.leaseId}.png`);
    const renew = setInterval(() => {
      this.client.heartbeat(lease.leaseId).catch((e: Error) => {
        // The lease is gone (expired or taken back): stop rendering for nothing.
        if (e instanceof CoordinatorError && e.status >= 400 && e.status < 500) worker.kill();
      });
    }, lease.heartbeatMs);
    try {
      const request: TileRenderRequest = {
        frame: lease.frame,
        region: lease.region,
        seed: lease.seed,
        samples: lease.samples,
        out,
      };
      const { tweaks } = this.opts;
      const { renderMs } = await worker.render(tweaks?.request?.(request, lease) ?? request);
      await tweaks?.tile?.(out, lease);
      const sha256 = await sha256File(out);
      await this.client.upload(lease.upload.url, out, lease.upload.contentType);
      const signature = await this.client.signMessage(completionMessage(lease.leaseId, sha256));
      await this.client.complete(lease.leaseId, {
        sha256,
        renderMs: Math.round(renderMs),
        signature,
      });
      this.opts.log(
        `frame ${lease.frame} tile ${lease.region.width}x${lease.region.height}+${lease.region.x}+${lease.region.y} done in ${renderMs} ms`,
      );
    } finally {
      clearInterval(renew);
      await rm(out, { force: true });
    }
  }

  private async workerFor(sha256: string, blend: string): Promise<BlenderTileWorker> {
    if (this.worker?.sha256 === sha256 && this.worker.process.isAlive) return this.worker.process;
    await this.worker?.process.close().catch(() => undefined);
    const process = await BlenderTileWorker.start(blend, {
      blenderPath: this.opts.blenderPath,
      threads: this.opts.threads,
      renderTimeoutMs: this.opts.renderTimeoutMs,
    });
    this.worker = { sha256, process };
    return process;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
