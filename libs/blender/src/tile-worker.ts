// A persistent Blender process for one scene that renders many regions without reloading
// (blender-scripts/tile_worker.py, use_persistent_data). Renders run one at a time: render()
// queues requests in FIFO order and each one's timeout starts when Blender receives it.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { assertRegionInFrame, PixelRegion } from './border';
import { BlenderRunOptions, DEFAULT_BLENDER } from './blender-command';
import { BlenderProcess, describeExit, ExitInfo, OutputStream } from './blender-process';
import { ProtocolMessage } from './marker';

export type TileWorkerErrorCode =
  | 'BLENDER_NOT_FOUND'
  | 'START_FAILED'
  | 'START_TIMEOUT'
  | 'INVALID_REQUEST'
  | 'RENDER_FAILED'
  | 'RENDER_TIMEOUT'
  | 'MEMORY_LIMIT'
  | 'WORKER_KILLED'
  | 'WORKER_DIED'
  | 'WORKER_CLOSED';

export class TileWorkerError extends Error {
  override readonly name = 'TileWorkerError';

  constructor(
    readonly code: TileWorkerErrorCode,
    message: string,
    /** Blender's last output lines */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface TileWorkerOptions extends BlenderRunOptions {
  /** render threads for every request that does not say; default the scene's setting */
  threads?: number;
  /** Cycles device type: CPU (default), CUDA, OPTIX, HIP, METAL, ONEAPI */
  device?: string;
  /** enable only this Cycles device id (one worker per GPU); default every device of the type */
  deviceId?: string;
  /**
   * Render scenes that refer to files outside the .blend which exist on this machine. Off by
   * default: only the .blend comes from the requester, so such a path (a texture pointing at one
   * of the node's files) would copy a local file into the uploaded tile.
   */
  allowExternalFiles?: boolean;
  /** loading the scene; default 120 s */
  startTimeoutMs?: number;
  /** per render, unless the request says; default 30 min */
  renderTimeoutMs?: number;
  /** close(): wait this long for a clean exit before killing; default 10 s */
  closeTimeoutMs?: number;
  onLog?: LogListener;
}

export type LogListener = (line: string, stream: OutputStream) => void;

export interface TileRenderRequest {
  frame: number;
  /** pixels of the final resolution, top-left origin, margins included */
  region: PixelRegion;
  /** Cycles seed; null/undefined: the scene's (never a previous request's) */
  seed?: number | null;
  /** null/undefined: the scene's */
  samples?: number | null;
  /** null/undefined: the worker's `threads` option, else the scene's */
  threads?: number | null;
  /** absolute path of the PNG to write (its directory must exist); nothing else is written */
  out: string;
  timeoutMs?: number;
}

export interface TileRenderResult {
  /** Blender's render call */
  renderMs: number;
  /** writing the PNG */
  saveMs: number;
  /** request sent to reply received, as seen from Node */
  wallMs: number;
  width: number;
  height: number;
}

/** What the worker learnt when it loaded the scene. */
export interface TileWorkerInfo {
  blenderVersion: string;
  engine: string;
  /** final resolution (after resolution percentage) */
  width: number;
  height: number;
  frameStart: number;
  frameEnd: number;
  /** empty regions render fully transparent (all zero), legitimately */
  filmTransparent: boolean;
}

interface Job {
  req: TileRenderRequest;
  resolve: (r: TileRenderResult) => void;
  reject: (e: Error) => void;
  id?: string;
  sentAt?: number;
  timer?: NodeJS.Timeout;
}

/** What Blender prints when an allocation fails under the address-space limit (prlimit --as). */
const OUT_OF_MEMORY = /std::bad_alloc|Malloc returns null|out of memory/i;
const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_RENDER_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export class BlenderTileWorker {
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private closing = false;
  private nextId = 1;
  private deathCause: TileWorkerError | null = null;
  private idleWaiters: Array<() => void> = [];

  private constructor(
    private readonly proc: BlenderProcess,
    readonly info: TileWorkerInfo,
    private readonly opts: TileWorkerOptions,
    private readonly logListeners: Set<LogListener>,
  ) {
    void proc.exited.then((exit) => this.onExit(exit));
  }

  /** Start Blender and load the scene; resolves once it is ready to render. */
  static async start(blendPath: string, opts: TileWorkerOptions = {}): Promise<BlenderTileWorker> {
    const path = sceneFile(blendPath);
    return (await SpareTileWorker.spawn(opts)).load(path);
  }

  /** @internal a spare's process, once its scene is loaded */
  static adopt(
    proc: BlenderProcess,
    info: TileWorkerInfo,
    opts: TileWorkerOptions,
    listeners: Set<LogListener>,
  ): { worker: BlenderTileWorker; onMessage: (m: ProtocolMessage) => void } {
    const worker = new BlenderTileWorker(proc, info, opts, listeners);
    return { worker, onMessage: (m) => worker.onMessage(m) };
  }

  get isAlive(): boolean {
    return this.proc.running && this.deathCause === null;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** renders waiting or running */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Subscribe to Blender's output lines (progress, warnings); returns an unsubscribe function. */
  onLog(listener: LogListener): () => void {
    this.logListeners.add(listener);
    return () => this.logListeners.delete(listener);
  }

  render(req: TileRenderRequest): Promise<TileRenderResult> {
    try {
      this.check(req);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<TileRenderResult>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  /** Finish the renders already requested, then let Blender exit; kill it if it hangs. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.proc.running) {
      await Promise.race([this.idle(), this.proc.exited]);
      await quit(this.proc, this.opts);
    }
  }

  /** Kill Blender now; pending renders reject with WORKER_KILLED. Resolves once it is gone. */
  async kill(): Promise<void> {
    this.proc.kill('requested');
    await this.proc.exited;
  }

  private check(req: TileRenderRequest): void {
    if (this.closing) throw new TileWorkerError('WORKER_CLOSED', 'the tile worker is closed');
    if (this.deathCause || !this.proc.running) {
      throw new TileWorkerError(
        this.deathCause?.code ?? 'WORKER_DIED',
        `the tile worker is not running${this.deathCause ? `: ${this.deathCause.message}` : ''}`,
      );
    }
    const invalid = (why: string) => new TileWorkerError('INVALID_REQUEST', why);
    if (!Number.isInteger(req.frame)) throw invalid(`frame must be an integer, got ${req.frame}`);
    try {
      assertRegionInFrame(req.region, this.info);
    } catch (e) {
      throw invalid((e as Error).message);
    }
    if (!isAbsolute(req.out) || !req.out.toLowerCase().endsWith('.png')) {
      throw invalid(`out must be an absolute .png path, got ${req.out}`);
    }
    if (!existsSync(dirname(req.out)))
      throw invalid(`directory does not exist: ${dirname(req.out)}`);
    for (const key of ['seed', 'samples', 'threads'] as const) {
      const v = req[key];
      if (v !== undefined && v !== null && (!Number.isInteger(v) || v < (key === 'seed' ? 0 : 1))) {
        throw invalid(`${key} must be a ${key === 'seed' ? 'non-negative' : 'positive'} integer`);
      }
    }
  }

  private pump(): void {
    if (this.current || !this.proc.running || this.deathCause) return;
    const job = this.queue.shift();
    if (!job) {
      this.idleWaiters.splice(0).forEach((w) => w());
      return;
    }
    this.current = job;
    job.id = `r${this.nextId++}`;
    const { req } = job;
    const timeoutMs = req.timeoutMs ?? this.opts.renderTimeoutMs ?? DEFAULT_RENDER_TIMEOUT_MS;
    job.timer = setTimeout(() => {
      this.deathCause = new TileWorkerError(
        'RENDER_TIMEOUT',
        `rendering frame ${req.frame} region ${describeRegion(req.region)} took longer than ${timeoutMs} ms; the Blender process was killed`,
        this.proc.outputTail(),
      );
      this.proc.kill('timeout');
    }, timeoutMs);
    job.sentAt = performance.now();
    this.proc.writeLine(
      JSON.stringify({
        id: job.id,
        frame: req.frame,
        region: req.region,
        seed: req.seed ?? null,
        samples: req.samples ?? null,
        threads: req.threads ?? this.opts.threads ?? null,
        out: req.out,
      }),
    );
  }

  private onMessage(m: ProtocolMessage): void {
    const job = this.current;
    if (!job || m.id !== job.id) return; // stale or unexpected: ignore
    clearTimeout(job.timer);
    if (m.ok !== true && this.outOfAddressSpace(`${m.error}\n${this.proc.outputTail()}`)) {
      // Blender survived a failed allocation; a process starved at its limit is not reused.
      // onExit fails this render (and any queued) with the cause.
      this.deathCause = this.memoryLimitError();
      this.proc.kill('requested');
      return;
    }
    this.current = null;
    if (m.ok === true) {
      job.resolve({
        renderMs: Number(m.renderMs),
        saveMs: Number(m.saveMs),
        wallMs: Math.round((performance.now() - job.sentAt!) * 10) / 10,
        width: Number(m.width),
        height: Number(m.height),
      });
    } else {
      job.reject(
        new TileWorkerError(
          'RENDER_FAILED',
          `rendering frame ${job.req.frame} region ${describeRegion(job.req.region)} failed: ${m.error}`,
          this.proc.outputTail(),
        ),
      );
    }
    this.pump();
  }

  private onExit(exit: ExitInfo): void {
    const tail = this.proc.outputTail();
    const reason = this.proc.killReason;
    this.deathCause ??=
      this.closing && !this.current
        ? new TileWorkerError('WORKER_CLOSED', 'the tile worker was closed', tail)
        : reason === 'memory'
          ? new TileWorkerError(
              'MEMORY_LIMIT',
              `Blender exceeded the memory limit of ${this.opts.maxRssBytes} bytes and was killed`,
              tail,
            )
          : this.outOfAddressSpace(tail)
            ? this.memoryLimitError(`, ${describeExit(exit)}`)
            : reason === 'requested'
              ? new TileWorkerError('WORKER_KILLED', 'the tile worker was killed', tail)
              : new TileWorkerError(
                  'WORKER_DIED',
                  `Blender ${describeExit(exit)} unexpectedly`,
                  tail,
                );
    const cause = this.deathCause;
    const jobs = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = null;
    for (const job of jobs) {
      clearTimeout(job.timer);
      const started = job.id !== undefined;
      job.reject(
        started
          ? new TileWorkerError(cause.code, cause.message, tail)
          : new TileWorkerError(cause.code, `not rendered: ${cause.message}`, tail),
      );
    }
    this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Blender's output says an allocation failed under the address-space limit (prlimit --as). */
  private outOfAddressSpace(output: string): boolean {
    return this.opts.addressSpaceBytes !== undefined && OUT_OF_MEMORY.test(output);
  }

  private memoryLimitError(how = ''): TileWorkerError {
    const { maxRssBytes, addressSpaceBytes } = this.opts;
    // With both limits set, which one stops a render depends on how fast it allocates; the
    // operator set the resident one, so that is the limit the reason names either way.
    const message =
      maxRssBytes !== undefined
        ? `Blender exceeded the memory limit of ${maxRssBytes} bytes: an allocation failed under its address-space cap of ${addressSpaceBytes} bytes${how}`
        : `Blender ran out of memory under the limit of ${addressSpaceBytes} bytes of address space${how}`;
    return new TileWorkerError('MEMORY_LIMIT', message, this.proc.outputTail());
  }

  private idle(): Promise<void> {
    if (!this.current && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}

/**
 * A Blender process started ahead of need: Blender's own start-up (about 1.5 s of CPU here) is
 * paid while the node is idle, and a new scene costs only its load. Each spare loads one scene,
 * and becomes that scene's worker: no process ever renders two requesters' scenes.
 */
export class SpareTileWorker {
  private route: (m: ProtocolMessage) => void = () => undefined;
  private used = false;

  private constructor(
    private readonly proc: BlenderProcess,
    private readonly opts: TileWorkerOptions,
    private readonly listeners: Set<LogListener>,
  ) {}

  /** Starts Blender; resolves once it waits for its scene. */
  static async spawn(opts: TileWorkerOptions = {}): Promise<SpareTileWorker> {
    const listeners = new Set<LogListener>(opts.onLog ? [opts.onLog] : []);
    let route: (m: ProtocolMessage) => void = () => undefined;
    const proc = await BlenderProcess.spawn({
      ...opts,
      script: 'tile_worker.py',
      scriptArgs: [
        '--device',
        opts.device ?? 'CPU',
        ...(opts.deviceId ? ['--device-id', opts.deviceId] : []),
        ...(opts.allowExternalFiles ? ['--allow-external'] : []),
      ],
      // No -t: Blender's command-line thread override beats the per-request setting.
      onMessage: (m) => route(m),
      onLog: (line, stream) => listeners.forEach((l) => l(line, stream)),
    });
    const spare = new SpareTileWorker(proc, opts, listeners);
    route = (m) => spare.route(m);
    await spare.expect((m) => m.waiting === true, 'start');
    return spare;
  }

  get isAlive(): boolean {
    return this.proc.running;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Loads the scene; this process is then that scene's worker. Once per spare. */
  async load(blendPath: string): Promise<BlenderTileWorker> {
    if (this.used) throw new TileWorkerError('START_FAILED', 'this Blender process has a scene');
    this.used = true;
    const path = sceneFile(blendPath);
    const ready = this.expect((m) => typeof m.ready === 'boolean', 'load');
    this.proc.writeLine(JSON.stringify({ cmd: 'load', blend: path }));
    const m = await ready;
    if (m.ready !== true) {
      this.proc.kill('requested');
      throw new TileWorkerError(
        'START_FAILED',
        `Blender cannot use the scene: ${m.error}`,
        this.proc.outputTail(),
      );
    }
    const { worker, onMessage } = BlenderTileWorker.adopt(
      this.proc,
      readyInfo(m),
      this.opts,
      this.listeners,
    );
    this.route = onMessage;
    return worker;
  }

  /** Lets a spare that was never used exit; kills it if it hangs. */
  async close(): Promise<void> {
    if (this.used || !this.proc.running) return;
    this.used = true;
    await quit(this.proc, this.opts);
  }

  /** The next protocol message that passes `accept`, within the start time-out. */
  private async expect(
    accept: (m: ProtocolMessage) => boolean,
    step: 'start' | 'load',
  ): Promise<ProtocolMessage> {
    const timeoutMs = this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(() => this.proc.kill('timeout'), timeoutMs);
    try {
      return await new Promise<ProtocolMessage>((ok, fail) => {
        this.route = (m) => {
          if (accept(m)) ok(m);
        };
        void this.proc.exited.then((exit) =>
          fail(startExitError(this.proc, exit, this.opts, timeoutMs, step)),
        );
      });
    } catch (e) {
      this.proc.kill('requested');
      if (e instanceof TileWorkerError && !e.detail) {
        throw new TileWorkerError(e.code, e.message, this.proc.outputTail());
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Asks Blender to exit (quit, then end of stdin); kills it if it has not within the time-out. */
async function quit(proc: BlenderProcess, opts: TileWorkerOptions): Promise<void> {
  proc.writeLine(JSON.stringify({ cmd: 'quit' }));
  proc.endInput();
  const timer = setTimeout(
    () => proc.kill('requested'),
    opts.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
  );
  await proc.exited;
  clearTimeout(timer);
}

function sceneFile(blendPath: string): string {
  const path = resolve(blendPath);
  if (!existsSync(path)) throw new TileWorkerError('START_FAILED', `scene not found: ${path}`);
  return path;
}

function describeRegion(r: PixelRegion): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}

function readyInfo(m: ProtocolMessage): TileWorkerInfo {
  return {
    blenderVersion: String(m.blenderVersion),
    engine: String(m.engine),
    width: Number(m.width),
    height: Number(m.height),
    frameStart: Number(m.frameStart),
    frameEnd: Number(m.frameEnd),
    filmTransparent: m.filmTransparent === true,
  };
}

function startExitError(
  proc: BlenderProcess,
  exit: ExitInfo,
  opts: TileWorkerOptions,
  timeoutMs: number,
  step: 'start' | 'load',
): TileWorkerError {
  if (exit.spawnError) {
    return new TileWorkerError(
      exit.spawnError.code === 'ENOENT' ? 'BLENDER_NOT_FOUND' : 'START_FAILED',
      `cannot run Blender (${opts.blenderPath ?? DEFAULT_BLENDER}): ${exit.spawnError.message}`,
    );
  }
  if (proc.killReason === 'timeout') {
    return new TileWorkerError(
      'START_TIMEOUT',
      step === 'load'
        ? `Blender did not load the scene within ${timeoutMs} ms`
        : `Blender did not start within ${timeoutMs} ms`,
    );
  }
  if (proc.killReason === 'memory') {
    return new TileWorkerError(
      'MEMORY_LIMIT',
      `Blender exceeded the memory limit of ${opts.maxRssBytes} bytes while ${step === 'load' ? 'loading the scene' : 'starting'}`,
    );
  }
  return new TileWorkerError('START_FAILED', `Blender ${describeExit(exit)} before it was ready`);
}
