// Payouts end to end on a real EVM node (hardhat), real Blender agents and the real coordinator:
// funding gates dispatch, honest operators are paid exactly their accepted work, the cheater is
// slashed and paid nothing, the requester gets the rest back, and the chain agrees with the
// Postgres ledger to the wei. Then, each in the middle of a settlement: the RPC node's process
// stopped (SIGSTOP) and continued, RPC connections refused while the coordinator is killed and
// restarted, and the escrow paused and unpaused: every payment still happens exactly once. A job
// that ends early, cancelled or failed, pays its verified work and refunds the rest; a node
// asking more than a job pays gets none of its tiles.
import { makeTestScene } from '@tessera/blender';
import {
  deployLocalEscrow,
  EscrowClient,
  escrowEvents,
  jobIdToBytes32,
  LocalChain,
  RpcProxy,
  startLocalChain,
  startRpcProxy,
} from '@tessera/escrow';
import { formatEther, Wallet } from 'ethers';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CoordinatorClient } from '../apps/render-node/src/coordinator/coordinator-client';
import { Coordinator, FarmProcess, startAgent, startCoordinator } from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { SimulatedAgent } from '../scripts/lib/simulated-agent';
import { Cheater, cheatCatalogue, startCheater } from './support/cheats';
import { createApiKey, quietFarm, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix, until } from './support/test-env';

jest.setTimeout(600_000);

beforeAll(() => quietFarm());

const ETH = 10n ** 18n;
const STAKE = ETH;
const SLASH = ETH / 2n;
const PRICE = 10n ** 15n; // wei per work unit
const SAMPLES = 16;

const prisma = testPrisma();
const processes: FarmProcess[] = [];
let chain: LocalChain;
let proxy: RpcProxy;
let escrow: EscrowClient;
let coordinator: Coordinator;
let coordinatorEnv: NodeJS.ProcessEnv;
let client: RequesterClient;
let apiKey: string;
let miner: NodeJS.Timeout;
let minerBusy = false;
/** no blocks but the transactions' own: a settlement then stops at its first step's depth */
let minerHeld = false;
let honest: Wallet[];
const honestKeyFiles: string[] = [];
let cheater: Wallet;
let requester: Wallet;
/** pays for the operators made on the fly for simulated agents */
let bank: Wallet;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Chain steps (confirmations, settlements) can take minutes on a loaded CI machine. */
const untilChain = <T>(what: string, probe: () => Promise<T | null | undefined | false>) =>
  until(what, probe, 300_000);

async function api<T>(method: string, path: string, body?: unknown): Promise<[number, T]> {
  const res = await fetch(`${coordinator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return [res.status, (text ? JSON.parse(text) : null) as T];
}

interface LedgerView {
  payment: string;
  entries: { kind: string; address: string; amountWei: string; txHash: string | null }[];
}

const paymentOf = async (jobId: string) =>
  (await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).payment;

/** Accepted work per operator, straight from the shards: verified renders x samples x price. */
async function acceptedWorkWei(jobId: string): Promise<Map<string, bigint>> {
  const rows = await prisma.$queryRaw<{ address: string; pixels: bigint }[]>`
    SELECT n.address, SUM(s.width * s.height)::bigint AS pixels
    FROM shards s JOIN results r ON r.id = s.result_id JOIN nodes n ON n.id = r.node_id
    WHERE s.job_id = ${jobId}::uuid AND s.verified_at IS NOT NULL
    GROUP BY n.address`;
  return new Map(
    rows.map((r) => [r.address, (BigInt(r.pixels) * BigInt(SAMPLES) * PRICE) / 100_000_000n]),
  );
}

beforeAll(async () => {
  chain = await startLocalChain({ accounts: 8 });
  proxy = await startRpcProxy(chain.url);
  const [, coordinatorKey, , a, b, c, req, spare] = chain.accounts;
  honest = [a, b];
  cheater = c;
  requester = req;
  bank = spare;
  escrow = await deployLocalEscrow(chain);
  for (const operator of [a, b, c]) {
    await (await escrow.connect(operator).stake(STAKE)).wait();
  }
  // hardhat mines only when a transaction comes: these blocks let confirmations deepen
  miner = setInterval(() => {
    if (minerBusy || minerHeld || proxy.isCut) return;
    minerBusy = true;
    chain.provider
      .send('evm_mine', [])
      .catch(() => undefined)
      .finally(() => (minerBusy = false));
  }, 300);

  coordinatorEnv = {
    QUEUE_PREFIX: uniqueQueuePrefix('payouts'),
    STORAGE_DIR: tmpDir(),
    NODE_ENV: 'test',
    CHAIN_RPC_URL: proxy.url,
    ESCROW_ADDRESS: escrow.address,
    COORDINATOR_KEY: coordinatorKey.privateKey,
    CHAIN_CONFIRMATIONS: '2',
    CHAIN_POLL_MS: '200',
    DEFAULT_PRICE_WEI: String(PRICE),
    SLASH_WEI: String(SLASH),
    MIN_STAKE_WEI: String(ETH / 10n),
    // one payee per settlement transaction: several transactions per job to interrupt
    SETTLE_BATCH_SIZE: '1',
    // one node's failed tile fails its job: the failed job below needs no three failing nodes
    SHARD_MAX_FAILURES: '1',
  };
  coordinator = await startCoordinator(coordinatorEnv, { name: 'coordinator-1' });
  apiKey = await createApiKey('payouts');
  client = new RequesterClient(coordinator.url, apiKey);
});

afterEach(() => {
  minerHeld = false;
});

afterAll(async () => {
  clearInterval(miner);
  for (const p of processes.reverse()) await p.stop();
  await coordinator?.stop();
  await proxy?.close();
  await chain?.stop();
  await prisma.$disconnect();
  cleanupTmpDirs();
});

async function startHonestAgents(): Promise<void> {
  for (const [i, wallet] of honest.entries()) {
    const work = tmpDir();
    const keyFile = join(work, 'node.key');
    await writeFile(keyFile, wallet.privateKey + '\n', { mode: 0o600 });
    honestKeyFiles.push(keyFile);
    processes.push(
      startAgent(
        coordinator.url,
        {
          TESSERA_NODE_KEY: keyFile,
          TESSERA_WORK_DIR: join(work, 'work'),
          TESSERA_THREADS: String(i + 1),
          TESSERA_POLL_WAIT_MS: '2000',
          // the first asks exactly the price every job here pays: it still gets their tiles
          ...(i === 0 ? { TESSERA_ASK_PRICE_WEI: String(PRICE) } : {}),
        },
        { name: `honest-${i + 1}` },
      ),
    );
  }
}

describe('a job with two honest nodes and one cheater', () => {
  let jobId: string;
  let jobKey: string;
  let deposit: bigint;
  let cheating: Cheater | undefined;

  afterAll(async () => {
    await cheating?.stop();
  });

  it('lets only admin keys retry a settlement, and only a failed one', async () => {
    const [forbidden] = await api('POST', `/api/v1/jobs/${randomUUID()}/settlement/retry`);
    expect(forbidden).toBe(403);
    const admin = await createApiKey('payouts-admin', { admin: true });
    const res = await fetch(`${coordinator.url}/api/v1/jobs/${randomUUID()}/settlement/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toBe(
      'only a failed settlement can be retried',
    );
  });

  it('refuses an unstaked node', async () => {
    const unstaked = Wallet.createRandom();
    const agent = new CoordinatorClient(coordinator.url, unstaked);
    await expect(agent.login('unstaked')).rejects.toThrow(/stake at least/);
  });

  it('waits for the deposit and says why; a too small deposit does not dispatch it', async () => {
    // the cheater logs in first so that it gets its share of the tiles
    cheating = startCheater(
      coordinator.url,
      cheater,
      cheatCatalogue({ overlap: 4, samples: SAMPLES, earlierRenders: new Map() })['black tile'],
    );
    await startHonestAgents();
    await untilChain('three staked nodes', async () => (await prisma.node.count()) >= 3 || null);

    const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
      width: 128,
      height: 72,
      samples: SAMPLES,
      frames: 2,
    });
    const job = await client.submit(scene, {
      tilesX: 3,
      tilesY: 3,
      overlap: 4,
      verification: 'paranoid',
    });
    jobId = job.id;
    jobKey = jobIdToBytes32(jobId);
    const [status, quote] = await api<{
      depositWei: string;
      workWei: string;
      escrow: { jobKey: string };
    }>('GET', `/api/v1/jobs/${jobId}/quote`);
    expect(status).toBe(200);
    expect(quote.escrow.jobKey).toBe(jobKey);
    deposit = BigInt(quote.depositWei);
    expect(deposit).toBeGreaterThan(BigInt(quote.workWei));

    // nothing on the escrow: not dispatched, and the job says what it waits for
    await sleep(1500);
    const waiting = await client.job(jobId);
    expect(
      (waiting as unknown as { payment: { state: string; note: string } }).payment,
    ).toMatchObject({
      state: 'AWAITING_FUNDS',
      note: expect.stringContaining(`waiting for a deposit of ${deposit} wei`),
    });
    expect(await prisma.lease.count({ where: { shard: { jobId } } })).toBe(0);

    // one wei short, sent straight to the escrow by the requester's own wallet
    await (await escrow.connect(requester).fund(jobKey, deposit - 1n)).wait();
    await untilChain('the short deposit noticed', async () => {
      const j = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
      return j.paymentNote?.includes(`holds ${deposit - 1n} wei`);
    });
    await sleep(1000);
    expect(await paymentOf(jobId)).toBe('AWAITING_FUNDS');
    expect(await prisma.lease.count({ where: { shard: { jobId } } })).toBe(0);
  });

  it('checks a signed deposit before broadcasting it, then dispatches once funded', async () => {
    const signed = async (key: string, value: bigint) => {
      const request = await escrow.contract.getFunction('fund').populateTransaction(key, { value });
      return requester.signTransaction(await requester.populateTransaction(request));
    };
    const otherJob = jobIdToBytes32('00000000-0000-4000-8000-000000000001');
    const [wrongJob, refused] = await api<{ message: string }>(
      'POST',
      `/api/v1/jobs/${jobId}/funding`,
      { signedTx: await signed(otherJob, 1n) },
    );
    expect(wrongJob).toBe(400);
    expect(refused.message).toContain(`fund(${jobKey})`);
    const [garbage] = await api('POST', `/api/v1/jobs/${jobId}/funding`, { signedTx: '0x1234' });
    expect(garbage).toBe(400);

    const [ok, sent] = await api<{ txHash: string }>('POST', `/api/v1/jobs/${jobId}/funding`, {
      signedTx: await signed(jobKey, 1n),
    });
    expect(ok).toBe(201);
    expect(sent.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    await untilChain('the job funded', async () => (await paymentOf(jobId)) !== 'AWAITING_FUNDS');
    const done = await client.waitForJob(jobId, { timeoutMs: 300_000, intervalMs: 500 });
    expect(done.status).toBe('COMPLETED');
  });

  it('pays honest operators exactly their accepted work, slashes the cheater, refunds the rest', async () => {
    await untilChain('the settlement', async () => (await paymentOf(jobId)) === 'SETTLED');
    const cheaterNode = await prisma.node.findUniqueOrThrow({
      where: { address: cheater.address },
    });
    const fraud = await prisma.verdict.findMany({ where: { jobId, kind: 'FRAUD' } });
    expect(fraud.map((v) => v.nodeA)).toEqual([cheaterNode.id]);

    const work = await acceptedWorkWei(jobId);
    expect(work.has(cheater.address)).toBe(false); // all its work on the job was redone
    const [, ledger] = await api<LedgerView>('GET', `/api/v1/jobs/${jobId}/payouts`);
    const entry = (kind: string, address: string) =>
      ledger.entries.filter((e) => e.kind === kind && e.address === address);
    let paid = 0n;
    for (const operator of honest) {
      const expected = work.get(operator.address) ?? 0n;
      expect(expected).toBeGreaterThan(0n);
      expect(entry('ACCRUED', operator.address).map((e) => e.amountWei)).toEqual([
        String(expected),
      ]);
      expect(entry('SETTLED', operator.address).map((e) => e.amountWei)).toEqual([
        String(expected),
      ]);
      expect(await escrow.balanceOf(operator.address)).toBe(expected);
      paid += expected;
    }
    // the requester sees what verification cost next to the work: together, what was paid
    const cost = (ledger as unknown as { costSoFar: { workWei: string; verificationWei: string } })
      .costSoFar;
    expect(BigInt(cost.verificationWei)).toBeGreaterThan(0n);
    expect(BigInt(cost.workWei) + BigInt(cost.verificationWei)).toBe(paid);
    // the farm-wide lists say the same: the payouts list and the job list's cost
    const [, list] = await api<{ items: { kind: string; jobId: string; amountWei: string }[] }>(
      'GET',
      '/api/v1/payouts',
    );
    const settledHere = list.items.filter((i) => i.jobId === jobId && i.kind === 'settled');
    expect(settledHere.reduce((sum, i) => sum + BigInt(i.amountWei), 0n)).toBe(paid);
    const [, jobs] = await api<{ id: string; cost: { wei: string | null } }[]>(
      'GET',
      '/api/v1/jobs',
    );
    expect(jobs.find((j) => j.id === jobId)?.cost.wei).toBe(String(paid));
    // so does the job's own view, and the add-on's panel shows it from that real response
    const [, view] = await api<{ etaMs: number | null; cost: { wei: string | null } }>(
      'GET',
      `/api/v1/jobs/${jobId}`,
    );
    expect(view).toMatchObject({ etaMs: null, cost: { wei: String(paid) } });
    const { stdout: panel } = await promisify(execFile)('python3', [
      '-c',
      'import json, sys; sys.path.insert(0, sys.argv[1]); import client; ' +
        'print("\\n".join(client.describe_job(json.loads(sys.argv[2]))))',
      join(__dirname, '..', 'blender-scripts', 'addon', 'tessera'),
      JSON.stringify(view),
    ]);
    expect(panel.split('\n')).toContain(`Cost: ${formatEther(paid).replace(/\.0$/, '')} ETH`);
    expect(entry('ACCRUED', cheater.address)).toEqual([]);
    expect(entry('SETTLED', cheater.address)).toEqual([]);
    expect(entry('SLASHED', cheater.address).map((e) => e.amountWei)).toEqual([String(SLASH)]);
    expect(await escrow.balanceOf(cheater.address)).toBe(0n);
    expect(await escrow.stakeOf(cheater.address)).toBe(STAKE - SLASH);

    // the requester gets back what was not spent, plus the slashed stake as compensation
    const refund = deposit - paid;
    expect(entry('REFUNDED', requester.address).map((e) => e.amountWei)).toEqual([String(refund)]);
    expect(await escrow.balanceOf(requester.address)).toBe(refund + SLASH);
    expect(await escrow.getJob(jobKey)).toMatchObject({
      budget: deposit,
      spent: paid,
      closed: true,
    });

    // an operator's wallet grows by exactly its accepted work when it withdraws
    const [a] = honest;
    const before = await chain.provider.getBalance(a.address);
    const receipt = await (await escrow.connect(a).withdraw()).wait();
    const after = await chain.provider.getBalance(a.address);
    expect(after - before + receipt!.fee).toBe(work.get(a.address));
  });
});

/** The operator's command line, as an operator runs it (built dist, JSON output). */
async function renderNodeCli(args: string[], keyFile: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    join(__dirname, '..', 'dist', 'apps', 'render-node', 'src', 'cli.js'),
    '--json',
    '--coordinator',
    coordinator.url,
    '--key',
    keyFile,
    '--work-dir',
    tmpDir(),
    ...args,
    '--rpc-url',
    chain.url,
  ]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe("the operator's command line", () => {
  it('shows the earnings, withdraws them and stakes more', async () => {
    const b = honest[1];
    const keyFile = honestKeyFiles[1];
    const settled = (
      await prisma.ledgerEntry.findMany({ where: { address: b.address, kind: 'SETTLED' } })
    ).reduce((sum, e) => sum + BigInt(e.amountWei.toFixed(0)), 0n);
    expect(settled).toBeGreaterThan(0n);

    const facts = { capabilities: true, blenderNum: true, renderDevice: true, renderMemMb: true };
    const registered = await prisma.node.findUniqueOrThrow({
      where: { address: b.address },
      select: facts,
    });
    expect(registered.renderDevice).toBe('cpu');
    const earnings = (await renderNodeCli(['earnings'], keyFile)) as {
      address: string;
      ledger: { settledWei: string; slashedWei: string };
      escrow: { withdrawableWei: string; stakeWei: string };
    };
    expect(earnings.address).toBe(b.address);
    expect(earnings.ledger.settledWei).toBe(String(settled));
    expect(earnings.ledger.slashedWei).toBe('0');
    expect(earnings.escrow.withdrawableWei).toBe(String(settled));
    // the command's own login (no capabilities) leaves what the agent registered alone
    expect(
      await prisma.node.findUniqueOrThrow({ where: { address: b.address }, select: facts }),
    ).toEqual(registered);

    const before = await chain.provider.getBalance(b.address);
    const withdrawn = (await renderNodeCli(['withdraw'], keyFile)) as {
      txHash: string;
      withdrawnWei: string;
      withdrawableWei: string;
    };
    expect(withdrawn.withdrawnWei).toBe(String(settled));
    expect(withdrawn.withdrawableWei).toBe('0');
    const receipt = await chain.provider.getTransactionReceipt(withdrawn.txHash);
    expect((await chain.provider.getBalance(b.address)) - before + receipt!.fee).toBe(settled);

    const staked = (await renderNodeCli(['stake', '0.25'], keyFile)) as { stakeWei: string };
    expect(staked.stakeWei).toBe(String(STAKE + ETH / 4n));
    // nothing left: the escrow's refusal comes back as one line
    await expect(renderNodeCli(['withdraw'], keyFile)).rejects.toThrow(
      /render-node: the escrow refused: nothing to withdraw yet/,
    );
  });
});

/** A fresh operator with STAKE in the escrow, for a simulated agent (no Blender). */
async function stakedOperator() {
  const wallet = Wallet.createRandom().connect(chain.provider);
  await (await bank.sendTransaction({ to: wallet.address, value: STAKE + ETH })).wait();
  await (await escrow.connect(wallet).stake(STAKE)).wait();
  return wallet;
}

interface FundedJob {
  id: string;
  key: string;
  deposit: bigint;
  /** escrow balances of the honest operators and the requester before the job */
  balancesBefore: Map<string, bigint>;
}

/** Submits a 2x2-tile job (4 frames by default) without verification and funds the quote. */
async function submitFunded(seed: number, frames = 4): Promise<FundedJob> {
  const balancesBefore = new Map<string, bigint>();
  for (const { address } of [...honest, requester]) {
    balancesBefore.set(address, await escrow.balanceOf(address));
  }
  const scene = await makeTestScene(join(tmpDir(), 'scene.blend'), {
    width: 96,
    height: 54,
    samples: SAMPLES,
    frames,
    seed,
  });
  const job = await client.submit(scene, {
    tilesX: 2,
    tilesY: 2,
    overlap: 4,
    verification: 'off',
  });
  const key = jobIdToBytes32(job.id);
  const [, quote] = await api<{ depositWei: string }>('GET', `/api/v1/jobs/${job.id}/quote`);
  const deposit = BigInt(quote.depositWei);
  await (await escrow.connect(requester).fund(key, deposit)).wait();
  return { id: job.id, key, deposit, balancesBefore };
}

/**
 * A funded job rendered to the end with the test's miner held: its settlement signs and sends its
 * first transaction (one payee per batch here), which is mined one block deep and waits for
 * CHAIN_CONFIRMATIONS (2). That is the middle of a settlement, where the tests interrupt it.
 */
async function jobInTheMiddleOfSettlement(seed: number, frames?: number): Promise<FundedJob> {
  const job = await submitFunded(seed, frames);
  // the deposit needs the miner's blocks to count
  await untilChain('the job dispatched', async () => (await paymentOf(job.id)) === 'FUNDED');
  minerHeld = true;
  const done = await client.waitForJob(job.id, { timeoutMs: 300_000, intervalMs: 300 });
  expect(done.status).toBe('COMPLETED');
  const first = await untilChain('the first settlement transaction sent', async () =>
    prisma.chainTx.findFirst({ where: { jobId: job.id, seq: 1, status: 'SENT' } }),
  );
  expect(first.kind).toBe('SETTLE');
  expect(await paymentOf(job.id)).toBe('SETTLING');
  return job;
}

/**
 * The chain's own record of a settled job: every transaction confirmed with a nonce of its own,
 * each batch settled once, each node credited exactly its accepted work, the job closed once.
 */
async function expectEachPaymentOnce(job: FundedJob): Promise<void> {
  const txs = await prisma.chainTx.findMany({ where: { jobId: job.id }, orderBy: { seq: 'asc' } });
  expect(txs.every((t) => t.status === 'CONFIRMED')).toBe(true);
  expect(new Set(txs.map((t) => t.nonce)).size).toBe(txs.length);

  const logs = await chain.provider.getLogs({
    address: escrow.address,
    topics: [null, job.key],
    fromBlock: 0,
  });
  const events = escrowEvents(logs);
  const batchIds = events
    .filter((e) => e.name === 'BatchSettled')
    .map((e) => String(e.args.batchId));
  expect(batchIds.length).toBe(txs.filter((t) => t.kind === 'SETTLE').length);
  expect(new Set(batchIds).size).toBe(batchIds.length);
  expect(events.filter((e) => e.name === 'JobClosed')).toHaveLength(1);

  const credited = new Map<string, bigint>();
  for (const e of events.filter((e) => e.name === 'Credited')) {
    const payee = String(e.args.payee);
    credited.set(payee, (credited.get(payee) ?? 0n) + BigInt(e.args.amount as bigint));
  }
  const work = await acceptedWorkWei(job.id);
  expect(Object.fromEntries(credited)).toEqual(
    Object.fromEntries([...work].map(([address, wei]) => [address, wei])),
  );
}

const someTilesVerified = (jobId: string) =>
  untilChain('some verified tiles', async () =>
    (await prisma.shard.count({ where: { jobId, verifiedAt: { not: null } } })) >= 2 ? true : null,
  );

/**
 * How a job is settled: each node is paid exactly its accepted work, the requester gets the rest
 * of the deposit back, and the ledger and the escrow's balances moved by just that, to the wei.
 * Returns what the nodes were paid.
 */
async function expectSettledToTheWei(job: FundedJob): Promise<bigint> {
  await untilChain('the settlement', async () => (await paymentOf(job.id)) === 'SETTLED');
  const work = await acceptedWorkWei(job.id);
  const [, ledger] = await api<LedgerView>('GET', `/api/v1/jobs/${job.id}/payouts`);
  const settled = ledger.entries.filter((e) => e.kind === 'SETTLED');
  expect(settled).toHaveLength(work.size); // one entry per node
  expect(Object.fromEntries(settled.map((e) => [e.address, e.amountWei]))).toEqual(
    Object.fromEntries([...work].map(([address, wei]) => [address, String(wei)])),
  );
  const paid = [...work.values()].reduce((sum, wei) => sum + wei, 0n);
  expect(paid).toBeGreaterThan(0n);
  const refunded = ledger.entries.filter((e) => e.kind === 'REFUNDED');
  expect(refunded.map((e) => [e.address, e.amountWei])).toEqual([
    [requester.address, String(job.deposit - paid)],
  ]);
  expect(ledger.entries.filter((e) => e.kind === 'SLASHED')).toEqual([]);

  // the chain agrees, to the wei
  expect(await escrow.getJob(job.key)).toMatchObject({
    budget: job.deposit,
    spent: paid,
    closed: true,
  });
  for (const [address, before] of job.balancesBefore) {
    const credit = address === requester.address ? job.deposit - paid : (work.get(address) ?? 0n);
    expect(await escrow.balanceOf(address)).toBe(before + credit);
  }
  return paid;
}

/** A job that ended early: settled to the wei, and only part of the deposit was spent. */
async function expectPaidForVerifiedWorkOnly(job: FundedJob): Promise<void> {
  const paid = await expectSettledToTheWei(job);
  expect(paid).toBeLessThan(job.deposit);
}

describe('the RPC node process stopped in the middle of a settlement and continued', () => {
  it('pays every payee exactly once', async () => {
    // the cheater is gone: two honest nodes, so this job runs without verification
    const job = await jobInTheMiddleOfSettlement(7, 2);
    // SIGSTOP: the hardhat process stops, its chain kept (hardhat keeps nothing across a real
    // restart); the coordinator's requests hang on it, as on a node that stopped answering
    chain.pause();
    try {
      minerHeld = false; // the miner's next request hangs too, until the node continues
      await sleep(4000);
      expect(await paymentOf(job.id)).toBe('SETTLING');
    } finally {
      chain.resume();
    }
    await expectSettledToTheWei(job);
    await expectEachPaymentOnce(job);
  });
});

describe('RPC connections refused and the coordinator restarted in the middle of a settlement', () => {
  it('pays every payee exactly once', async () => {
    const job = await jobInTheMiddleOfSettlement(8, 2);
    // the node keeps running behind the proxy; the coordinator's connections are refused
    proxy.cut();
    minerHeld = false;
    await sleep(2000); // settlement passes fail against the dead RPC
    await coordinator.stop('SIGKILL');
    proxy.restore();
    // same address: the agents and the requester client keep talking to "the coordinator"
    coordinator = await startCoordinator(coordinatorEnv, {
      name: 'coordinator-2',
      port: Number(new URL(coordinator.url).port),
    });
    await expectSettledToTheWei(job);
    await expectEachPaymentOnce(job);
  });
});

describe('the escrow paused in the middle of a settlement', () => {
  it('waits with the reason, then pays every payee exactly once after the unpause', async () => {
    const job = await jobInTheMiddleOfSettlement(9);
    const admin = escrow.connect(chain.accounts[0]);
    // its block is the second over the first settle: that one confirms, the next is refused
    await (await admin.pause()).wait();
    minerHeld = false;
    const note = 'escrow paused: settlement waits until it is unpaused';
    try {
      await untilChain('the settlement waiting', async () =>
        (await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).paymentNote === note
          ? true
          : null,
      );
      const view = (await client.job(job.id)) as unknown as {
        payment: { state: string; note: string };
      };
      expect(view.payment).toEqual(expect.objectContaining({ state: 'SETTLING', note }));
      await sleep(3000); // passes go on (backing off): it waits, it does not fail
      expect(await paymentOf(job.id)).toBe('SETTLING');
      const txs = await prisma.chainTx.findMany({
        where: { jobId: job.id },
        orderBy: { seq: 'asc' },
      });
      // two payees, two batches: the pause fell between them
      expect(txs.map((t) => [t.kind, t.status])).toEqual([
        ['SETTLE', 'CONFIRMED'],
        ['SETTLE', 'PENDING'],
        ['CLOSE', 'PENDING'],
      ]);
      expect(txs[1].error).toContain('refused with EnforcedPause');
      // closeJob works on a paused escrow: run now, it would refund the second payee's share
      expect(await escrow.getJob(job.key)).toMatchObject({ closed: false });
    } finally {
      await (await admin.unpause()).wait();
    }
    await expectSettledToTheWei(job);
    await expectEachPaymentOnce(job);
    expect((await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).paymentNote).toBeNull();
  });
});

describe('a funded job cancelled halfway', () => {
  it('pays the verified work done so far and refunds the rest', async () => {
    const job = await submitFunded(11);
    await someTilesVerified(job.id);
    const [cancelled] = await api('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled).toBe(200);
    await expectPaidForVerifiedWorkOnly(job);
  });
});

describe('a funded job failed halfway by a tile no node can render', () => {
  it('pays the verified work done so far and refunds the rest, like a cancel', async () => {
    // a node whose Blender runs out of memory on its tile (SHARD_MAX_FAILURES=1: once is enough)
    const failing = new SimulatedAgent(await stakedOperator());
    await failing.login(coordinator.url);
    const job = await submitFunded(12);
    // it asks as soon as the job is funded, so it holds a tile while the others render
    const { lease } = await failing.requestLease(coordinator.url, 30_000);
    expect(lease?.jobId).toBe(job.id);
    await someTilesVerified(job.id);
    const reason = 'out of memory (simulated)';
    const failed = await failing.fail(coordinator.url, lease!.leaseId, reason);
    expect([200, 201]).toContain(failed.status);

    const tile = await prisma.shard.findUniqueOrThrow({ where: { id: lease!.shardId } });
    const ended = await client.job(job.id);
    expect(ended.status).toBe('FAILED');
    expect(ended.error).toBe(
      `frame ${lease!.frame} tile (${tile.tileX}, ${tile.tileY}) failed on 1 node(s); the last said: ${reason}`,
    );
    await expectPaidForVerifiedWorkOnly(job);
    expect(await escrow.balanceOf(failing.address)).toBe(0n);
  });
});

describe("a node's asking price", () => {
  it('a node asking more than a job pays gets none of its tiles; a cheaper node does', async () => {
    // a real agent sends its TESSERA_ASK_PRICE_WEI when it logs in
    const first = await prisma.node.findUniqueOrThrow({ where: { address: honest[0].address } });
    expect(first.askPriceWei?.toFixed(0)).toBe(String(PRICE));

    const dear = new SimulatedAgent(await stakedOperator());
    const cheap = new SimulatedAgent(await stakedOperator());
    await dear.login(coordinator.url, String(PRICE + 1n));
    await cheap.login(coordinator.url, String(PRICE));
    const job = await submitFunded(13);
    await untilChain('the job dispatched', async () => (await paymentOf(job.id)) === 'FUNDED');
    // tiles are free while both ask: the dear node would get one if its price did not matter
    const free = await prisma.shard.count({ where: { jobId: job.id, status: 'PENDING' } });
    expect(free).toBeGreaterThan(1);
    const [dearAsks, cheapAsks] = await Promise.all([
      dear.requestLease(coordinator.url, 3000),
      cheap.requestLease(coordinator.url, 3000),
    ]);
    expect(cheapAsks.lease?.jobId).toBe(job.id);
    expect(dearAsks.status).toBe(204);
    expect(dearAsks.lease).toBeNull();
    await cheap.release(coordinator.url, cheapAsks.lease!.leaseId);

    const done = await client.waitForJob(job.id, { timeoutMs: 300_000, intervalMs: 300 });
    expect(done.status).toBe('COMPLETED');
    const dearNode = await prisma.node.findUniqueOrThrow({ where: { address: dear.address } });
    expect(dearNode.askPriceWei?.toFixed(0)).toBe(String(PRICE + 1n));
    expect(await prisma.lease.count({ where: { nodeId: dearNode.id } })).toBe(0);
  });
});
