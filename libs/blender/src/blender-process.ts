// One Blender child process: private sandbox dir, own process group (so a kill takes everything
// it started), output split into lines, protocol messages separated from log lines, an optional
// resident-memory watchdog, and cleanup of the sandbox when it exits.
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlenderRunOptions, blenderScriptPath, safeBlenderCommand } from './blender-command';
import { newProtocolToken, parseMarkerLine, ProtocolMessage, TOKEN_ENV } from './marker';

export type OutputStream = 'stdout' | 'stderr';
export type KillReason = 'timeout' | 'memory' | 'requested';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** set when the process could not be started (e.g. ENOENT: Blender not installed) */
  spawnError?: NodeJS.ErrnoException;
}

export interface BlenderProcessOptions extends BlenderRunOptions {
  /** script file name inside the scripts dir, e.g. "tile_worker.py" */
  script: string;
  scriptArgs: string[];
  threads?: number;
  onMessage: (message: ProtocolMessage) => void;
  onLog?: (line: string, stream: OutputStream) => void;
}

const TAIL_LINES = 30;
const MAX_LINE = 1 << 20;
const RSS_POLL_MS = 200;

const live = new Set<BlenderProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Process groups are detached from ours: do not leave Blenders (or their sandboxes) behind
  // when Node exits. Only synchronous work runs here.
  process.once('exit', () => {
    for (const p of live) {
      p.kill('requested');
      rmSync(p.sandbox, { recursive: true, force: true });
    }
  });
}

export class BlenderProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly tail: string[] = [];
  private exitInfo: ExitInfo | null = null;
  private reason: KillReason | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  private constructor(
    opts: BlenderProcessOptions,
    private readonly sandboxDir: string,
  ) {
    const token = newProtocolToken();
    const cmd = safeBlenderCommand({
      blenderPath: opts.blenderPath,
      script: blenderScriptPath(opts.script, opts.scriptsDir),
      scriptArgs: opts.scriptArgs,
      sandboxDir,
      threads: opts.threads,
      addressSpaceBytes: opts.addressSpaceBytes,
      prlimitPath: opts.prlimitPath,
      extraEnv: { ...opts.env, [TOKEN_ENV]: token },
    });
    this.child = spawn(cmd.command, cmd.args, {
      env: cmd.env,
      cwd: sandboxDir,
      detached: true, // own process group, killed as a whole
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin.on('error', () => undefined); // EPIPE after a crash is reported via exit
    const onLine = (line: string, stream: OutputStream) => {
      const message = stream === 'stdout' ? parseMarkerLine(line, token) : null;
      if (message) {
        opts.onMessage(message);
        return;
      }
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      opts.onLog?.(line, stream);
    };
    splitLines(this.child.stdout, (l) => onLine(l, 'stdout'));
    splitLines(this.child.stderr, (l) => onLine(l, 'stderr'));

    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        this.stopWatchdog();
        live.delete(this);
        // Resolve only once the sandbox is gone, so a caller that exits next leaves nothing.
        void rm(sandboxDir, { recursive: true, force: true })
          .catch(() => undefined)
          .then(() => resolve(info));
      };
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        if (this.child.pid === undefined) done({ code: null, signal: null, spawnError: err });
      });
      this.child.once('close', (code, signal) => done({ code, signal }));
    });
    if (this.child.pid !== undefined) {
      live.add(this);
      installExitHook();
      if (opts.maxRssBytes !== undefined) this.startWatchdog(opts.maxRssBytes);
    }
  }

  static async spawn(opts: BlenderProcessOptions): Promise<BlenderProcess> {
    const sandbox = await mkdtemp(join(tmpdir(), 'tessera-blender-'));
    return new BlenderProcess(opts, sandbox);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === null && this.child.pid !== undefined;
  }

  /** why we killed it, if we did */
  get killReason(): KillReason | null {
    return this.reason;
  }

  /** last lines of Blender's own output, for error messages */
  outputTail(lines = 10): string {
    return this.tail.slice(-lines).join('\n');
  }

  get sandbox(): string {
    return this.sandboxDir;
  }

  writeLine(line: string): void {
    if (this.running) this.child.stdin.write(line + '\n');
  }

  endInput(): void {
    if (this.running) this.child.stdin.end();
  }

  /** SIGKILL the whole process group. */
  kill(reason: KillReason): void {
    if (!this.running) return;
    this.reason ??= reason;
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL'); // group already gone or not ours: fall back to the child
    }
  }

  private startWatchdog(maxRssBytes: number): void {
    if (process.platform !== 'linux') return; // /proc only; elsewhere rely on the OS
    const path = `/proc/${this.child.pid}/status`;
    this.watchdog = setInterval(() => {
      readFile(path, 'utf8')
        .then((status) => {
          const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
          if (kb && Number(kb[1]) * 1024 > maxRssBytes) this.kill('memory');
        })
        .catch(() => undefined);
    }, RSS_POLL_MS);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}

export function describeExit(info: ExitInfo): string {
  if (info.spawnError) return `could not start: ${info.spawnError.message}`;
  if (info.signal) return `killed by ${info.signal}`;
  return `exited with code ${info.code}`;
}

function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
    }
    if (buf.length > MAX_LINE) {
      onLine(buf);
      buf = '';
    }
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
    buf = '';
  });
}
