// A local EVM JSON-RPC node (hardhat's `hardhat node`) as a child process, for tests, benchmarks
// and the demo. It runs in its own process group so stop() leaves no orphans.
//
// Outages: restart() gives a fresh chain (hardhat keeps no state across restarts); pause() stops
// the node's process (SIGSTOP: requests hang until resume(), state kept), which is how the tests
// stop the RPC node in the middle of a settlement and start it again. For refused connections
// instead, like a dead host, put startRpcProxy (rpc-proxy.ts) in front and cut() it: the node
// behind it keeps running, and the chain is intact after restore().
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet } from 'ethers';
import { deployEscrow, EscrowClient } from './escrow-client';

export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
export const LOCAL_CHAIN_ID = 31337n;

export interface LocalChainOptions {
  /** Default: a free port. */
  port?: number;
  /** Funded dev accounts (10,000 ETH each). Default 20. */
  accounts?: number;
  startTimeoutMs?: number;
}

export interface LocalChain {
  url: string;
  port: number;
  chainId: bigint;
  provider: JsonRpcProvider;
  /** Hardhat's well-known dev keys (m/44'/60'/0'/0/i of DEV_MNEMONIC), connected to `provider`. */
  accounts: Wallet[];
  /** Kills the node's process group. */
  stop(): Promise<void>;
  /** stop() and a new node on the same port: a FRESH chain, nothing deployed survives. */
  restart(): Promise<void>;
  /** Freezes the node (SIGSTOP): requests hang until resume(); chain state is kept. */
  pause(): void;
  resume(): void;
  /** The node's recent output, for error messages. */
  output(): string;
  /** The node's process id (it leads its own process group), undefined once stopped. */
  readonly pid: number | undefined;
}

const devKeys: string[] = [];

/** The private key of hardhat's dev account `index`. */
export function devPrivateKey(index: number): string {
  if (!devKeys.length) devKeys.push(...deriveDevKeys(20));
  if (index >= devKeys.length) devKeys.push(...deriveDevKeys(index + 1).slice(devKeys.length));
  return devKeys[index];
}

function deriveDevKeys(count: number): string[] {
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), "m/44'/60'/0'/0");
  return Array.from({ length: count }, (_, i) => root.deriveChild(i).privateKey);
}

function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'nest-cli.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root above ${from}`);
    dir = up;
  }
  return dir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function rpcChainId(url: string): Promise<bigint | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    const body = (await response.json()) as { result?: string };
    return body.result ? BigInt(body.result) : null;
  } catch {
    return null;
  }
}

export async function startLocalChain(options: LocalChainOptions = {}): Promise<LocalChain> {
  const root = repoRoot();
  const hardhat = join(root, 'node_modules', '.bin', 'hardhat');
  const config = join(root, 'libs', 'escrow', 'hardhat.config.js');
  if (!existsSync(hardhat)) throw new Error(`hardhat is not installed (${hardhat}); run npm ci`);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const accountCount = options.accounts ?? 20;
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let tail: string[] = [];
  const output = () => tail.join('');

  // If this process ends without stop(), the node must not outlive it.
  const killOnExit = () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);

  const launch = async () => {
    tail = [];
    // hardhat refuses to run unless it is resolvable from its cwd: run it from the repository.
    const proc = spawn(
      process.execPath,
      [hardhat, '--config', config, 'node', '--hostname', '127.0.0.1', '--port', String(port)],
      {
        cwd: root,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
          TESSERA_CHAIN_ACCOUNTS: String(accountCount),
        },
      },
    );
    child = proc;
    // The node logs every RPC call: drain the pipes (a full pipe would block it), keep the tail.
    const keep = (chunk: Buffer) => {
      tail.push(chunk.toString());
      if (tail.length > 200) tail = tail.slice(-100);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (gone) {
        throw new Error(
          `hardhat node exited before answering on ${url}:\n${output().slice(-2000)}`,
        );
      }
      const id = await rpcChainId(url);
      if (id !== null) return id;
      if (Date.now() > deadline) {
        await kill();
        throw new Error(
          `hardhat node did not answer on ${url} within ${timeoutMs} ms:\n${output().slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const kill = async () => {
    const proc = child;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    const group = -proc.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(group, name);
      } catch {
        // the group is already gone
      }
    };
    signal('SIGTERM');
    signal('SIGCONT'); // a paused node only handles SIGTERM once it runs again
    const timer = setTimeout(() => signal('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const chainId = await launch();
  const provider = new JsonRpcProvider(url, Number(chainId), {
    staticNetwork: true,
    pollingInterval: 100,
    // ethers caches identical reads for 250 ms; a balance read right after a transaction must not be stale
    cacheTimeout: -1,
  });
  const accounts = Array.from(
    { length: accountCount },
    (_, i) => new Wallet(devPrivateKey(i), provider),
  );

  return {
    url,
    port,
    chainId,
    provider,
    accounts,
    async stop() {
      provider.destroy();
      await kill();
      process.off('exit', killOnExit);
    },
    async restart() {
      await kill();
      await launch();
    },
    pause() {
      if (child?.pid) process.kill(-child.pid, 'SIGSTOP');
    },
    resume() {
      if (child?.pid) process.kill(-child.pid, 'SIGCONT');
    },
    output,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
  };
}

/** Dev account roles on a local chain: 0 admin, 1 coordinator, 2 treasury; the rest are free. */
export const LOCAL_ROLES = { admin: 0, coordinator: 1, treasury: 2 } as const;

/** Deploys an escrow on a local chain with the dev accounts in LOCAL_ROLES. */
export async function deployLocalEscrow(
  chain: LocalChain,
  delays: { unstakeDelaySeconds?: number; jobTimeoutSeconds?: number } = {},
): Promise<EscrowClient> {
  const admin = chain.accounts[LOCAL_ROLES.admin];
  const { client } = await deployEscrow(admin, {
    admin: admin.address,
    coordinator: chain.accounts[LOCAL_ROLES.coordinator].address,
    treasury: chain.accounts[LOCAL_ROLES.treasury].address,
    unstakeDelaySeconds: delays.unstakeDelaySeconds ?? 3600,
    jobTimeoutSeconds: delays.jobTimeoutSeconds ?? 86_400,
  });
  return client;
}
