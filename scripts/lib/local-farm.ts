// Starts a coordinator and render-node agents as real processes on this machine, from the built
// output in dist/. Used by the demo, the benchmarks and the end-to-end tests.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './repo-root';

const DIST = join(repoRoot(), 'dist', 'apps');

export interface FarmProcess {
  name: string;
  proc: ChildProcess;
  /** everything the process printed, for diagnostics */
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface Coordinator extends FarmProcess {
  url: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function launch(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  echo?: (line: string) => void,
): FarmProcess {
  // Its own process group, so SIGKILL can take down the process with its Blender children,
  // the way a node that loses power would.
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 5000) output.shift();
      echo?.(`${name}: ${line}`);
    }
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = once(proc, 'exit');
  return {
    name,
    proc,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      if (signal === 'SIGKILL') process.kill(-proc.pid!, 'SIGKILL');
      else proc.kill(signal);
      const timer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startCoordinator(
  env: NodeJS.ProcessEnv,
  opts: { name?: string; echo?: (line: string) => void; port?: number } = {},
): Promise<Coordinator> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const p = launch(
    opts.name ?? 'coordinator',
    join(DIST, 'coordinator', 'src', 'main.js'),
    { HOST: '127.0.0.1', PUBLIC_URL: url, ...env, PORT: String(port) },
    opts.echo,
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (p.proc.exitCode !== null) {
      throw new Error(`coordinator exited at start:\n${p.output.slice(-20).join('\n')}`);
    }
    try {
      const res = await fetch(`${url}/api/v1/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await p.stop('SIGKILL');
      throw new Error(`coordinator did not start:\n${p.output.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...p, url };
}

export function startAgent(
  coordinatorUrl: string,
  env: NodeJS.ProcessEnv,
  opts: { name?: string; echo?: (line: string) => void } = {},
): FarmProcess {
  return launch(
    opts.name ?? 'render-node',
    join(DIST, 'render-node', 'src', 'main.js'),
    { TESSERA_COORDINATOR: coordinatorUrl, ...env },
    opts.echo,
  );
}
