import {
  BlenderTileWorker,
  SpareTileWorker,
  TileRenderRequest,
  TileWorkerOptions,
} from '@tessera/blender';
import { completionMessage, LeaseGrant } from '@tessera/protocol';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CoordinatorClient,
  CoordinatorError,
  leaseGone,
  transient,
} from '../coordinator/coordinator-client';
import { RenderSlot } from '../devices/render-slots';
import { SceneCache } from '../scenes/scene-cache';
import { Backoff, BackoffPolicy, DEFAULT_BACKOFF } from './backoff';
import { NodeCapabilities, probeCapabilities } from './capabilities';
import { parseRenderProgress } from './render-progress';
import { checkTile } from './tile-check';

export interface AgentOptions {
  workDir: string;
  blenderPath: string;
  threads?: number;
  renderTimeoutMs: number;
  pollWaitMs: number;
  name?: string;
  /** wei per work unit; the coordinator leases this node no job priced below it */
  askPriceWei?: string;
  /** cpu (default), gpu, cuda, optix:0,1 ...: one worker per chosen GPU */
  device?: string;
  /** per Blender process: resident-memory watchdog, and an address-space limit (prlimit) on CPU */
  maxMemoryBytes?: number;
  /** scene cache cap on disk; default 20 GiB */
  sceneCacheBytes?: number;
  /**
   * Ask for the next lease while rendering and report the previous tile while the next renders
   * (at most two leases held per worker). Default on.
   */
  pipeline?: boolean;
  backoff?: BackoffPolicy;
  /** already probed (the CLI probes once and prints them); default: probe at start */
  capabilities?: NodeCapabilities;
  log: (line: string, fields?: Record<string, unknown>) => void;
  onProgress?: (event: ProgressEvent) => void;
  /** Test seam: the cheat catalogue (test/support/cheats.ts) changes one behaviour of a real agent. */
  tweaks?: RenderTweaks;
}

export interface ProgressEvent {
  phase: 'download' | 'render' | 'upload';
  /** lease id, or the scene hash for downloads */
  id: string;
  done: number;
  total: number;
}

export interface RenderTweaks {
  request?: (req: TileRenderRequest, lease: LeaseGrant) => TileRenderRequest;
  tile?: (file: string, lease: LeaseGrant) => Promise<void>;
}

/** A lease this agent holds, from grant to completion or release; heartbeats keep it alive. */
interface Held {
  lease: LeaseGrant;
  lost: boolean;
  /** its result is being reported: stop() lets that finish instead of releasing */
  finishing: boolean;
  progress?: number;
  /** kills what works on the lease once it is gone */
  onLost?: () => void;
  timer: NodeJS.Timeout;
}

/** What a finished render leaves on disk until the coordinator accepted it (survives restarts). */
interface PendingResult {
  lease: LeaseGrant;
  renderMs: number;
}

class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

const STOP_FINISH_MS = 10_000;
const DOWNLOAD_ATTEMPTS = 5;
const ADDRESS_SPACE_HEADROOM = 2 ** 30;
/** a slot that has waited this long for a lease is idle: time to start its spare Blender */
const SPARE_AFTER_IDLE_MS = 250;

/**
 * The lease loop, one per render slot (the CPU, or each chosen GPU): ask for work, render it with
 * a persistent Blender worker for the scene, check, upload, complete. The next lease is fetched
 * while a tile renders and the previous tile is reported while the next renders, so Blender is
 * rarely idle. A coordinator that cannot be reached is retried with capped, jittered backoff and
 * finished results are kept (on disk) until it can take them; a lease the coordinator says is gone
 * stops its render at once; stop() gives back what is not finished so others take it at once.
 */
export class Agent {
  private readonly workers = new Map<string, { sha256: string; process: BlenderTileWorker }>();
  /** per slot, a Blender started while idle that the next new scene loads into */
  private readonly spares = new Map<string, Promise<SpareTileWorker | null>>();
  private readonly held = new Map<string, Held>();
  /** job folders being removed (unhold), by job: the job's next render waits for that */
  private readonly jobDirRemovals = new Map<string, Promise<void>>();
  private readonly scenes: SceneCache;
  private readonly poll = new AbortController();
  private stopping = false;
  private wakeSleepers: Array<() => void> = [];
  private done?: Promise<void>;
  private capabilities?: NodeCapabilities;
  private relogin?: Promise<void>;

  constructor(
    private readonly client: CoordinatorClient,
    private readonly opts: AgentOptions,
  ) {
    this.scenes = new SceneCache(join(opts.workDir, 'scenes'), {
      maxBytes: opts.sceneCacheBytes ?? 20 * 2 ** 30,
      onProgress: (sha256, done, total) =>
        opts.onProgress?.({ phase: 'download', id: sha256, done, total: total ?? done }),
    });
  }

  start(): Promise<void> {
    this.done = this.run();
    return this.done;
  }

  /** Graceful stop: gives back leases not yet rendered, lets finished results be reported. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poll.abort();
    this.wakeSleepers.splice(0).forEach((w) => w());
    const giveBack = [...this.held.values()].filter((h) => !h.finishing);
    await Promise.all(giveBack.map((h) => this.release(h, 'agent stopping')));
    for (const { process } of this.workers.values()) void process.kill();
    const finished = this.done?.catch(() => undefined);
    await Promise.race([finished, sleep(STOP_FINISH_MS)]);
    // whatever is still unreported stays on disk for the next start
    for (const h of this.held.values()) clearInterval(h.timer);
    await Promise.all([
      ...[...this.workers.values()].map((w) => w.process.close().catch(() => {})),
      ...[...this.spares.values()].map((s) => s.then((spare) => spare?.close())),
    ]);
  }

  private async run(): Promise<void> {
    this.capabilities ??=
      this.opts.capabilities ??
      (await probeCapabilities({
        blenderPath: this.opts.blenderPath,
        device: this.opts.device ?? 'cpu',
        threads: this.opts.threads,
        workDir: this.opts.workDir,
      }));
    await this.login();
    if (this.stopping) return;
    // Their leases are held before the first poll, which names what the agent holds.
    const pending = await this.reportPendingResults();
    await Promise.all(this.capabilities.slots.map((slot) => this.slotLoop(slot)));
    await pending.reported;
  }

  /** Logs in, retrying with backoff while the coordinator cannot be reached. */
  private async login(): Promise<void> {
    const backoff = new Backoff(this.opts.backoff ?? DEFAULT_BACKOFF);
    while (!this.stopping) {
      try {
        const session = await this.client.login(
          this.opts.name,
          { ...this.capabilities },
          this.opts.askPriceWei,
        );
        this.opts.log(`registered as ${session.address} (node ${session.nodeId})`, {
          event: 'registered',
          address: session.address,
          nodeId: session.nodeId,
        });
        return;
      } catch (e) {
        if (!transient(e)) throw e;
        const wait = backoff.next();
        this.opts.log(`coordinator unreachable (${(e as Error).message}); retrying in ${wait} ms`);
        await this.sleep(wait);
      }
    }
  }

  private slotLoop(slot: RenderSlot): Promise<void> {
    return (async () => {
      const pipelined = this.opts.pipeline !== false;
      let next: Promise<Held | null> | undefined;
      let finishing: Promise<void> = Promise.resolve();
      while (!this.stopping) {
        const idle = setTimeout(() => this.startSpare(slot), SPARE_AFTER_IDLE_MS);
        const held = await (next ?? this.nextLease());
        clearTimeout(idle);
        next = undefined;
        if (!held) continue;
        let rendered: { file: string; renderMs: number; allowBlank: boolean };
        try {
          const worker = await this.prepare(slot, held);
          // The next lease arrives while this one renders; only once the previous result is
          // reported, so that a worker holds at most two leases.
          if (pipelined && !this.stopping) {
            next = finishing
              .then(() => (this.stopping ? null : this.nextLease()))
              .then((upcoming) => {
                // A busy slot never idles long enough to start its spare: when the next lease
                // is of another scene, the spare starts now, while this tile renders.
                if (upcoming && upcoming.lease.scene.sha256 !== this.workers.get(slot.id)?.sha256) {
                  this.startSpare(slot);
                }
                return upcoming;
              });
          }
          rendered = await this.render(worker, held);
        } catch (e) {
          await this.abandon(held, e);
          continue;
        }
        if (!pipelined) {
          await this.finishRendered(held, rendered);
          continue;
        }
        await finishing;
        finishing = this.finishRendered(held, rendered);
      }
      await finishing;
      const leftover = await next;
      if (leftover) await this.release(leftover, 'agent stopping');
    })();
  }

  /** Long-polls until a lease comes, riding out coordinator outages; null once stopping. */
  private async nextLease(): Promise<Held | null> {
    const backoff = new Backoff(this.opts.backoff ?? DEFAULT_BACKOFF);
    while (!this.stopping) {
      try {
        const lease = await this.client.requestLease(
          this.opts.pollWaitMs,
          [...this.held.keys()],
          this.poll.signal,
        );
        backoff.reset();
        if (!lease) continue;
        const held = this.hold(lease);
        if (this.stopping) {
          await this.release(held, 'agent stopping');
          return null;
        }
        return held;
      } catch (e) {
        if (this.stopping) return null;
        await this.recover(e, backoff);
      }
    }
    return null;
  }

  /** After a failed call: log in again on 401, else wait (capped, jittered backoff). */
  private async recover(e: unknown, backoff: Backoff): Promise<void> {
    if (e instanceof CoordinatorError && e.status === 401) {
      this.relogin ??= this.login().finally(() => (this.relogin = undefined));
      await this.relogin.catch(() => undefined);
      return;
    }
    const wait = backoff.next();
    if (backoff.failures === 1 || backoff.failures % 10 === 0) {
      this.opts.log(`coordinator unreachable (${(e as Error).message}); retrying in ${wait} ms`, {
        event: 'unreachable',
        failures: backoff.failures,
      });
    }
    await this.sleep(wait);
  }

  private hold(lease: LeaseGrant): Held {
    const held: Held = {
      lease,
      lost: false,
      finishing: false,
      timer: setInterval(() => this.beat(held), lease.heartbeatMs),
    };
    this.held.set(lease.leaseId, held);
    return held;
  }

  private beat(held: Held): void {
    this.client.heartbeat(held.lease.leaseId, held.progress).catch((e: unknown) => {
      if (leaseGone(e)) {
        // Taken back, cancelled or expired: every second spent on it is wasted.
        this.opts.log(`lease ${held.lease.leaseId} is gone (${(e as Error).message}); stopping it`);
        this.lose(held);
      } else if (e instanceof CoordinatorError && e.status === 401) {
        this.relogin ??= this.login().finally(() => (this.relogin = undefined));
      }
      // unreachable: keep going, the lease outlives a short outage
    });
  }

  private lose(held: Held): void {
    held.lost = true;
    held.onLost?.();
    this.unhold(held);
  }

  private unhold(held: Held): void {
    clearInterval(held.timer);
    if (this.held.get(held.lease.leaseId) !== held) return;
    this.held.delete(held.lease.leaseId);
    const job = held.lease.jobId;
    if (![...this.held.values()].some((h) => h.lease.jobId === job)) {
      // The job's working folder goes once nothing of the job is in progress here; a lease of
      // the job that comes meanwhile waits for that before making the folder again (render()).
      const removal: Promise<void> = rm(this.jobDir(job), { recursive: true, force: true })
        .catch(() => undefined)
        .then(() => {
          if (this.jobDirRemovals.get(job) === removal) this.jobDirRemovals.delete(job);
        });
      this.jobDirRemovals.set(job, removal);
    }
  }

  private async release(held: Held, reason: string): Promise<void> {
    held.lost = true;
    this.unhold(held);
    held.onLost?.();
    await this.client.release(held.lease.leaseId).catch((e: Error) => {
      if (!leaseGone(e))
        this.opts.log(`could not release ${held.lease.leaseId} (${reason}): ${e.message}`);
    });
  }

  /** A lease that cannot be finished: given back (stopping) or failed so another node takes it. */
  private async abandon(held: Held, e: unknown): Promise<void> {
    if (held.lost || e instanceof LeaseLost) return;
    if (this.stopping) {
      await this.release(held, 'agent stopping');
      return;
    }
    const message = (e as Error).message;
    this.opts.log(`lease ${held.lease.leaseId} failed: ${message}`, {
      event: 'failed',
      leaseId: held.lease.leaseId,
    });
    this.unhold(held);
    await this.client.fail(held.lease.leaseId, message).catch(() => undefined);
  }

  private jobDir(jobId: string): string {
    return join(this.opts.workDir, 'jobs', jobId);
  }

  private resultsDir(): string {
    return join(this.opts.workDir, 'results');
  }

  private async prepare(slot: RenderSlot, held: Held): Promise<BlenderTileWorker> {
    const { lease } = held;
    const inUse = [...this.workers.values()].map((w) => w.sha256);
    const backoff = new Backoff(this.opts.backoff ?? DEFAULT_BACKOFF);
    let blend: string | undefined;
    for (let attempt = 1; !blend; attempt++) {
      try {
        blend = await this.scenes.get(
          lease.scene.sha256,
          (offset) => this.client.download(lease.scene.url, offset),
          inUse,
        );
      } catch (e) {
        // a broken download resumes where it stopped; a bad one fails the lease
        if (!transient(e) || attempt >= DOWNLOAD_ATTEMPTS || held.lost || this.stopping) throw e;
        await this.sleep(backoff.next());
      }
    }
    if (held.lost) throw new LeaseLost();
    const current = this.workers.get(slot.id);
    if (current?.sha256 === lease.scene.sha256 && current.process.isAlive) return current.process;
    await current?.process.close().catch(() => undefined);
    this.workers.delete(slot.id);
    const spare = await this.takeSpare(slot);
    const process = await spare.load(blend);
    this.workers.set(slot.id, { sha256: lease.scene.sha256, process });
    if (held.lost || this.stopping) throw new LeaseLost();
    return process;
  }

  private workerOptions(slot: RenderSlot): TileWorkerOptions {
    return {
      blenderPath: this.opts.blenderPath,
      threads: this.opts.threads,
      renderTimeoutMs: this.opts.renderTimeoutMs,
      device: slot.backend,
      deviceId: slot.deviceId,
      maxRssBytes: this.opts.maxMemoryBytes,
      // prlimit --as catches one huge allocation before the watchdog's next look. CPU slots only:
      // GPU drivers reserve far more address space than they use. Blender itself reserves about
      // 0.8 GB that it never touches, hence the headroom over the resident limit.
      addressSpaceBytes:
        this.opts.maxMemoryBytes !== undefined && slot.backend === 'CPU'
          ? this.opts.maxMemoryBytes + ADDRESS_SPACE_HEADROOM
          : undefined,
    };
  }

  /**
   * Starts the slot's spare Blender, once it is idle or its next lease is of a new scene: the
   * new scene then costs its load, not Blender's start-up. Failures are left to the next scene,
   * which starts a Blender of its own.
   */
  private startSpare(slot: RenderSlot): void {
    if (this.stopping || this.spares.has(slot.id)) return;
    const spare = SpareTileWorker.spawn(this.workerOptions(slot)).then(
      (s) => {
        this.opts.log(`spare Blender ready for the next scene (${slot.id})`, { event: 'spare' });
        return s;
      },
      () => null,
    );
    this.spares.set(slot.id, spare);
  }

  private async takeSpare(slot: RenderSlot): Promise<SpareTileWorker> {
    const pending = this.spares.get(slot.id);
    this.spares.delete(slot.id);
    const spare = await pending;
    if (spare?.isAlive) return spare;
    return SpareTileWorker.spawn(this.workerOptions(slot));
  }

  /** Renders into the job's folder; checking and reporting happen in finish(), off the path. */
  private async render(
    worker: BlenderTileWorker,
    held: Held,
  ): Promise<{ file: string; renderMs: number; allowBlank: boolean }> {
    const { lease } = held;
    const dir = this.jobDir(lease.jobId);
    await this.jobDirRemovals.get(lease.jobId);
    await mkdir(dir, { recursive: true });
    const out = join(dir, `${lease.leaseId}.png`);
    held.onLost = () => void worker.kill();
    if (held.lost) throw new LeaseLost(); // lost while the job folder was made
    const unsubscribe = worker.onLog((line) => {
      const p = parseRenderProgress(line);
      if (p === null) return;
      held.progress = p;
      this.opts.onProgress?.({ phase: 'render', id: lease.leaseId, done: p, total: 1 });
    });
    try {
      const request: TileRenderRequest = {
        frame: lease.frame,
        region: lease.region,
        seed: lease.seed,
        samples: lease.samples,
        out,
      };
      const { tweaks } = this.opts;
      this.opts.log(`frame ${lease.frame} tile ${describeRegion(lease.region)} rendering`, {
        event: 'rendering',
        leaseId: lease.leaseId,
        frame: lease.frame,
      });
      const { renderMs } = await worker.render(tweaks?.request?.(request, lease) ?? request);
      if (held.lost) throw new LeaseLost();
      return {
        file: out,
        renderMs: Math.round(renderMs),
        allowBlank: worker.info.filmTransparent,
      };
    } catch (e) {
      await rm(out, { force: true });
      if (held.lost) throw new LeaseLost();
      throw e;
    } finally {
      held.onLost = undefined;
      unsubscribe();
    }
  }

  /** Checks the tile and moves it out of the job folder, with what is needed to report it later. */
  private async keep(
    held: Held,
    rendered: { file: string; renderMs: number; allowBlank: boolean },
  ): Promise<string> {
    const { lease } = held;
    try {
      await checkTile(rendered.file, lease.region, { allowBlank: rendered.allowBlank });
      await this.opts.tweaks?.tile?.(rendered.file, lease);
      // kept outside the job folder until the coordinator has it, across restarts too
      await mkdir(this.resultsDir(), { recursive: true });
      const file = join(this.resultsDir(), `${lease.leaseId}.png`);
      await rename(rendered.file, file);
      const pending: PendingResult = { lease, renderMs: rendered.renderMs };
      await writeFile(`${file}.json`, JSON.stringify(pending));
      return file;
    } finally {
      await rm(rendered.file, { force: true });
    }
  }

  /** Check, keep and report a fresh render; a tile that fails its check fails the lease. */
  private async finishRendered(
    held: Held,
    rendered: { file: string; renderMs: number; allowBlank: boolean },
  ): Promise<void> {
    held.finishing = true;
    let file: string;
    try {
      file = await this.keep(held, rendered);
    } catch (e) {
      held.finishing = false;
      await this.abandon(held, e);
      return;
    }
    await this.finish(held, file, rendered.renderMs);
  }

  /**
   * Uploads and completes, retrying while the coordinator is unreachable. Never throws: a result
   * the coordinator no longer wants (lease gone) is dropped, one it refuses fails the lease.
   */
  private async finish(held: Held, file: string, renderMs: number): Promise<void> {
    const { lease } = held;
    held.finishing = true;
    const backoff = new Backoff(this.opts.backoff ?? DEFAULT_BACKOFF);
    let keepOnDisk = false;
    try {
      const sha256 = await sha256File(file);
      let uploaded = false;
      for (;;) {
        if (held.lost) {
          this.opts.log(`lease ${lease.leaseId} ended before its result was accepted; dropped`);
          return;
        }
        try {
          if (!uploaded) {
            await this.client.upload(lease.upload.url, file, lease.upload.contentType, (d, t) =>
              this.opts.onProgress?.({ phase: 'upload', id: lease.leaseId, done: d, total: t }),
            );
            uploaded = true;
          }
          const signature = await this.client.signMessage(completionMessage(lease.leaseId, sha256));
          await this.client.complete(lease.leaseId, { sha256, renderMs, signature });
          this.opts.log(
            `frame ${lease.frame} tile ${describeRegion(lease.region)} done in ${renderMs} ms`,
            { event: 'completed', leaseId: lease.leaseId, frame: lease.frame, renderMs },
          );
          return;
        } catch (e) {
          if (leaseGone(e)) {
            // completed already (an answer lost in a restart) or expired during an outage
            this.opts.log(`lease ${lease.leaseId} result not taken: ${(e as Error).message}`);
            return;
          }
          if (!transient(e) && !(e instanceof CoordinatorError && e.status === 401)) {
            this.opts.log(`lease ${lease.leaseId} result refused: ${(e as Error).message}`);
            await this.client.fail(lease.leaseId, (e as Error).message).catch(() => undefined);
            return;
          }
          if (this.stopping && Date.now() > this.stopDeadline()) {
            keepOnDisk = true; // reported by the next start, if the lease still lives then
            return;
          }
          await this.recover(e, backoff);
        }
      }
    } catch (e) {
      this.opts.log(`lease ${lease.leaseId} result could not be read: ${(e as Error).message}`);
    } finally {
      this.unhold(held);
      if (!keepOnDisk)
        await rm(file, { force: true }).then(() => rm(`${file}.json`, { force: true }));
    }
  }

  private stopAt?: number;

  private stopDeadline(): number {
    this.stopAt ??= Date.now() + STOP_FINISH_MS - 1000;
    return this.stopAt;
  }

  /**
   * Results a previous run rendered but could not report (coordinator down, then stopped): their
   * leases are held at once, the reports go on in the background (`reported`).
   */
  private async reportPendingResults(): Promise<{ reported: Promise<unknown> }> {
    const dir = this.resultsDir();
    const names = await readdir(dir).catch(() => [] as string[]);
    const finishing: Promise<void>[] = [];
    for (const name of names.filter((n) => n.endsWith('.png.json'))) {
      const meta = join(dir, name);
      const file = meta.slice(0, -'.json'.length);
      try {
        const pending = JSON.parse(await readFile(meta, 'utf8')) as PendingResult;
        this.opts.log(`reporting the result of lease ${pending.lease.leaseId} from the last run`);
        finishing.push(this.finish(this.hold(pending.lease), file, pending.renderMs));
      } catch {
        await rm(meta, { force: true });
        await rm(file, { force: true });
      }
    }
    return { reported: Promise.all(finishing) };
  }

  /** Sleeps, cut short by stop(). */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleepers.push(done);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function describeRegion(r: { x: number; y: number; width: number; height: number }): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}
