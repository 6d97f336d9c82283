// The escrow transaction pipeline against a real EVM node and the real database, without a farm:
// a settlement mined and then dropped by a chain reorganisation (evm_snapshot / evm_revert) is
// re-broadcast from the stored signed transaction and counts once, only at CHAIN_CONFIRMATIONS.
// A step the escrow refuses for now (paused, the coordinator's key without its role), at the
// estimate or after it was mined, waits with its reason and goes through once the escrow accepts
// it; a step that breaks the escrow's rules fails with its reason. A step priced under a risen
// base fee is replaced by fee (same nonce, higher fees) and pays once, whichever of its
// transactions is mined; at CHAIN_MAX_FEE_PER_GAS_WEI it waits with a note.
import {
  COORDINATOR_ROLE,
  deployLocalEscrow,
  EscrowClient,
  escrowEvents,
  jobIdToBytes32,
  LocalChain,
  startLocalChain,
} from '@tessera/escrow';
import { toQuantity, Transaction } from 'ethers';
import { createHash, randomUUID } from 'node:crypto';
import { Chain } from '../apps/coordinator/src/chain/chain';
import { loadConfig } from '../apps/coordinator/src/config/config';
import { EventsService } from '../apps/coordinator/src/events/events.service';
import { ChainTxService } from '../apps/coordinator/src/payouts/chain-tx.service';
import { bumped } from '../apps/coordinator/src/payouts/fee-bump';
import { PayoutsRepository } from '../apps/coordinator/src/payouts/payouts.repository';
import { SettlementService } from '../apps/coordinator/src/payouts/settlement.service';
import { testPrisma } from './support/farm';
import { redisUrl, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(120_000);

const CONFIRMATIONS = 3;
const prisma = testPrisma();
let chain: LocalChain;
let escrow: EscrowClient;
let coordinatorChain: Chain;
let txs: ChainTxService;
let repo: PayoutsRepository;

beforeAll(async () => {
  chain = await startLocalChain({ accounts: 6 });
  const coordinator = chain.accounts[1];
  escrow = await deployLocalEscrow(chain);
  coordinatorChain = {
    provider: chain.provider,
    signer: coordinator,
    escrow: escrow.connect(coordinator),
    chainId: chain.chainId,
    confirmations: CONFIRMATIONS,
    // the defaults: nothing here stays unmined that long
    repriceMs: 120_000,
    maxFeePerGas: null,
  };
  repo = new PayoutsRepository(prisma);
  txs = new ChainTxService(coordinatorChain, repo);
});

afterAll(async () => {
  await chain?.stop();
  await prisma.$disconnect();
});

/**
 * A job row to hang the transaction on (the pipeline does not care what rendered it). FAILED,
 * so that no coordinator of another test file on this database takes up its settlement.
 */
async function settlingJob(): Promise<string> {
  const sha256 = createHash('sha256').update(randomUUID()).digest('hex');
  const key = await prisma.apiKey.create({
    data: { name: 'reorg', hash: sha256, prefix: 'reorg' },
  });
  await prisma.scene.create({ data: { sha256, size: 1n, storageKey: `scenes/${sha256}` } });
  const job = await prisma.job.create({
    data: {
      apiKeyId: key.id,
      sceneSha256: sha256,
      settings: {},
      seed: 0,
      status: 'FAILED',
      payment: 'SETTLING',
    },
  });
  return job.id;
}

const mine = (blocks = 1) => chain.provider.send('hardhat_mine', [`0x${blocks.toString(16)}`]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** longer than the first backoff of a waiting step (1 s) */
const AFTER_BACKOFF_MS = 1200;

/** A funded job with one settle step of `amount` to `operator`. */
async function jobWithSettleStep(operator: string, amount: bigint) {
  const requester = chain.accounts[3];
  const jobId = await settlingJob();
  const jobKey = jobIdToBytes32(jobId);
  await (await escrow.connect(requester).fund(jobKey, 1000n)).wait();
  const { id } = await prisma.chainTx.create({
    data: {
      jobId,
      seq: 1,
      kind: 'SETTLE',
      args: { batchId: '1', payees: [operator], amounts: [String(amount)] },
    },
  });
  const row = () => prisma.chainTx.findUniqueOrThrow({ where: { id } });
  const job = () => prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  return { jobId, jobKey, row, job };
}

it('re-broadcasts a settlement dropped by a reorg and confirms it once, at depth', async () => {
  const [, , , requester, operator] = chain.accounts;
  const jobId = await settlingJob();
  const jobKey = jobIdToBytes32(jobId);
  await (await escrow.connect(requester).fund(jobKey, 1000n)).wait();
  const settle = await prisma.chainTx.create({
    data: {
      jobId,
      seq: 1,
      kind: 'SETTLE',
      args: { batchId: '1', payees: [operator.address], amounts: ['600'] },
    },
  });
  const row = () => prisma.chainTx.findUniqueOrThrow({ where: { id: settle.id } });

  const snapshot = await chain.provider.send('evm_snapshot', []);
  // signed, stored, broadcast and mined (automine), but not deep enough to count
  expect(await txs.advance(await row(), jobKey)).toBe('waiting');
  const sent = await row();
  expect(sent.status).toBe('SENT');
  expect(sent.blockNumber).not.toBeNull();
  expect(await escrow.isSettled(jobKey, 1n)).toBe(true);

  // the chain reorganises: the block with the settlement is gone, and so is its effect
  await chain.provider.send('evm_revert', [snapshot]);
  expect(await escrow.isSettled(jobKey, 1n)).toBe(false);
  expect(await chain.provider.getTransactionReceipt(sent.txHash!)).toBeNull();

  // the pipeline sends the very same signed transaction again (same hash, same nonce)
  expect(await txs.advance(await row(), jobKey)).toBe('waiting');
  const again = await row();
  expect(again.txHash).toBe(sent.txHash);
  expect(again.nonce).toBe(sent.nonce);
  expect(await chain.provider.getTransactionReceipt(sent.txHash!)).not.toBeNull();

  await mine(CONFIRMATIONS);
  expect(await txs.advance(await row(), jobKey)).toBe('confirmed');
  const confirmed = await row();
  expect(confirmed.status).toBe('CONFIRMED');
  expect(confirmed.outcome).toEqual({ total: '600' });
  expect(await escrow.balanceOf(operator.address)).toBe(600n);
  // and a further pass changes nothing
  expect(await txs.advance(confirmed, jobKey)).toBe('confirmed');
  expect(await escrow.balanceOf(operator.address)).toBe(600n);
});

it('takes the chain’s word when a step is already on chain but not in the database', async () => {
  const [, coordinator, , requester, operator] = chain.accounts;
  const jobId = await settlingJob();
  const jobKey = jobIdToBytes32(jobId);
  await (await escrow.connect(requester).fund(jobKey, 1000n)).wait();
  // sent by an earlier life of the coordinator whose database record was lost
  await (await escrow.connect(coordinator).settle(jobKey, 1n, [operator.address], [100n])).wait();
  const settle = await prisma.chainTx.create({
    data: {
      jobId,
      seq: 1,
      kind: 'SETTLE',
      args: { batchId: '1', payees: [operator.address], amounts: ['100'] },
    },
  });
  const before = await escrow.balanceOf(operator.address);
  expect(await txs.advance(settle, jobKey)).toBe('confirmed');
  const row = await prisma.chainTx.findUniqueOrThrow({ where: { id: settle.id } });
  expect(row.status).toBe('CONFIRMED');
  expect(row.txHash).toBeNull(); // nothing was sent this time
  expect(await escrow.balanceOf(operator.address)).toBe(before);
});

it('stops a job’s settlement with a reason when a step would break the escrow’s rules', async () => {
  const [, , , requester, operator] = chain.accounts;
  const jobId = await settlingJob();
  const jobKey = jobIdToBytes32(jobId);
  await (await escrow.connect(requester).fund(jobKey, 10n)).wait();
  const settle = await prisma.chainTx.create({
    data: {
      jobId,
      seq: 1,
      kind: 'SETTLE',
      args: { batchId: '1', payees: [operator.address], amounts: ['11'] },
    },
  });
  expect(await txs.advance(settle, jobKey)).toBe('failed');
  const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  expect(job.payment).toBe('FAILED');
  expect(job.paymentNote).toMatch(/SETTLE would revert: BudgetExceeded/);
  // a failed step stays failed
  const failed = await prisma.chainTx.findUniqueOrThrow({ where: { id: settle.id } });
  expect(await txs.advance(failed, jobKey)).toBe('failed');

  // once what stopped it is fixed (here: the budget topped up), an admin retries it
  await (await escrow.connect(requester).fund(jobKey, 1n)).wait();
  expect(await repo.retryFailedSettlement(jobId)).toBe(true);
  expect(await repo.retryFailedSettlement(jobId)).toBe(false); // not failed any more
  expect(await prisma.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({
    payment: 'SETTLING',
    paymentNote: 'settlement retried by an admin',
  });
  const before = await escrow.balanceOf(operator.address);
  const row = () => prisma.chainTx.findUniqueOrThrow({ where: { id: settle.id } });
  expect(await txs.advance(await row(), jobKey)).toBe('waiting');
  await mine(CONFIRMATIONS);
  expect(await txs.advance(await row(), jobKey)).toBe('confirmed');
  expect(await escrow.balanceOf(operator.address)).toBe(before + 11n);
});

it('starts counting nonces from the chain again when the chain forgot our transactions', async () => {
  const [, coordinator, , requester, operator] = chain.accounts;
  // as after a demo's development chain was started afresh: the database remembers more
  await prisma.chainAccount.upsert({
    where: { address: coordinator.address },
    create: { address: coordinator.address, nextNonce: 500 },
    update: { nextNonce: 500 },
  });
  const jobId = await settlingJob();
  const jobKey = jobIdToBytes32(jobId);
  await (await escrow.connect(requester).fund(jobKey, 1000n)).wait();
  const settle = await prisma.chainTx.create({
    data: {
      jobId,
      seq: 1,
      kind: 'SETTLE',
      args: { batchId: '1', payees: [operator.address], amounts: ['7'] },
    },
  });
  const chainNonce = await chain.provider.getTransactionCount(coordinator.address, 'pending');
  expect(await txs.advance(settle, jobKey)).toBe('waiting');
  const sent = await prisma.chainTx.findUniqueOrThrow({ where: { id: settle.id } });
  expect(sent.nonce).toBe(chainNonce);
  expect(await chain.provider.getTransactionReceipt(sent.txHash!)).not.toBeNull();
  expect(await escrow.isSettled(jobKey, 1n)).toBe(true);
});

describe('a step the escrow refuses for now', () => {
  const admin = () => escrow.connect(chain.accounts[0]);

  it('waits while the escrow is paused, says why, and settles once after the unpause', async () => {
    const operator = chain.accounts[5];
    const step = await jobWithSettleStep(operator.address, 40n);
    const before = await escrow.balanceOf(operator.address);
    await (await admin().pause()).wait();
    try {
      expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
      expect(await step.row()).toMatchObject({ status: 'PENDING', txHash: null });
      expect((await step.row()).error).toMatch(/SETTLE #1 refused with EnforcedPause/);
      expect(await step.job()).toMatchObject({
        payment: 'SETTLING',
        paymentNote: 'escrow paused: settlement waits until it is unpaused',
      });
    } finally {
      await (await admin().unpause()).wait();
    }
    // backing off: the escrow is not asked again at once
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
    expect((await step.row()).status).toBe('PENDING');

    await sleep(AFTER_BACKOFF_MS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
    expect(await step.row()).toMatchObject({ status: 'SENT', error: null });
    expect((await step.job()).paymentNote).toBeNull();
    await mine(CONFIRMATIONS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('confirmed');
    expect(await escrow.balanceOf(operator.address)).toBe(before + 40n);
  });

  it('waits while the coordinator key lacks its role, and settles once it holds it again', async () => {
    const [, coordinator, , , , operator] = chain.accounts;
    const step = await jobWithSettleStep(operator.address, 30n);
    const before = await escrow.balanceOf(operator.address);
    await (await admin().revokeRole(COORDINATOR_ROLE, coordinator.address)).wait();
    try {
      expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
      expect((await step.row()).error).toMatch(/refused with AccessControlUnauthorizedAccount/);
      expect(await step.job()).toMatchObject({
        payment: 'SETTLING',
        paymentNote: expect.stringContaining(
          `the coordinator key ${coordinator.address} does not hold the escrow's coordinator role`,
        ),
      });
    } finally {
      await (await admin().grantRole(COORDINATOR_ROLE, coordinator.address)).wait();
    }
    await sleep(AFTER_BACKOFF_MS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
    await mine(CONFIRMATIONS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('confirmed');
    expect(await escrow.balanceOf(operator.address)).toBe(before + 30n);
  });

  it('signs again a settlement mined after a pause (reverted), and it counts once', async () => {
    const operator = chain.accounts[5];
    const step = await jobWithSettleStep(operator.address, 20n);
    const before = await escrow.balanceOf(operator.address);
    await chain.provider.send('evm_setAutomine', [false]);
    try {
      // signed and broadcast while the escrow accepted it; the pause lands first in the block
      expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
      await admin().pause({ maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n });
      await mine();
    } finally {
      await chain.provider.send('evm_setAutomine', [true]);
    }
    const reverted = await step.row();
    const receipt = await chain.provider.getTransactionReceipt(reverted.txHash!);
    expect(receipt?.status).toBe(0);

    // a revert counts at depth, like a success
    expect(await txs.advance(reverted, step.jobKey)).toBe('waiting');
    expect((await step.row()).status).toBe('SENT');
    await mine(CONFIRMATIONS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
    const unsigned = await step.row();
    expect(unsigned).toMatchObject({ status: 'PENDING', nonce: null, txHash: null });
    expect(unsigned.error).toContain(
      `${reverted.txHash} reverted in block ${receipt!.blockNumber}`,
    );
    expect(unsigned.error).toContain('(EnforcedPause)');
    expect(await step.job()).toMatchObject({
      payment: 'SETTLING',
      paymentNote: 'escrow paused: settlement waits until it is unpaused',
    });

    await (await admin().unpause()).wait();
    await sleep(AFTER_BACKOFF_MS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('waiting');
    const resent = await step.row();
    expect(resent.status).toBe('SENT');
    expect(resent.txHash).not.toBe(reverted.txHash);
    expect(resent.nonce).toBeGreaterThan(reverted.nonce!);
    await mine(CONFIRMATIONS);
    expect(await txs.advance(await step.row(), step.jobKey)).toBe('confirmed');
    expect(await escrow.balanceOf(operator.address)).toBe(before + 20n);
    expect(await escrow.isSettled(step.jobKey, 1n)).toBe(true);
  });
});

describe('a step that stays unmined (priced under a risen base fee)', () => {
  /** long enough that a step just sent is not yet due on a busy machine */
  const REPRICE_MS = 3000;
  const operator = () => chain.accounts[4];
  const receipt = (hash: string) => chain.provider.getTransactionReceipt(hash);
  const setNextBaseFee = (wei: bigint) =>
    chain.provider.send('hardhat_setNextBlockBaseFeePerGas', [toQuantity(wei)]);
  /** A coordinator that replaces a sent step after REPRICE_MS, within `maxFeePerGas`. */
  const repricing = (maxFeePerGas: bigint | null = null) =>
    new ChainTxService({ ...coordinatorChain, repriceMs: REPRICE_MS, maxFeePerGas }, repo);
  /** Holds back blocks (the node keeps what it is sent in its pool) until `run` is over. */
  async function withoutAutomine<T>(run: () => Promise<T>): Promise<T> {
    await chain.provider.send('evm_setAutomine', [false]);
    try {
      return await run();
    } finally {
      await chain.provider.send('evm_setAutomine', [true]);
    }
  }
  /**
   * Sends the step (`send`: one pass of the pipeline), then the base fee rises past what it
   * offers and a block is mined without it.
   */
  async function sendAndStrand(
    step: Awaited<ReturnType<typeof jobWithSettleStep>>,
    send: () => Promise<string>,
  ) {
    expect(await send()).toBe('waiting');
    const sent = await step.row();
    expect(sent.status).toBe('SENT');
    const signed = Transaction.from(sent.rawTx!);
    await setNextBaseFee(signed.maxFeePerGas! * 2n);
    await mine();
    expect(await receipt(sent.txHash!)).toBeNull();
    return { sent, signed };
  }

  let events: EventsService;
  beforeAll(async () => {
    events = new EventsService(
      loadConfig({ REDIS_URL: redisUrl(), QUEUE_PREFIX: uniqueQueuePrefix('reorg') }),
    );
    await events.onModuleInit();
  });
  afterAll(() => events?.onModuleDestroy());

  it('replaces it with higher fees and the same nonce, and it pays once', async () => {
    const service = repricing();
    const settlement = new SettlementService(
      loadConfig({}),
      coordinatorChain,
      repo,
      service,
      events,
    );
    const step = await jobWithSettleStep(operator().address, 50n);
    const before = await escrow.balanceOf(operator().address);

    const { first, replaced } = await withoutAutomine(async () => {
      const { sent: first, signed: firstTx } = await sendAndStrand(step, () =>
        settlement.settle(step.jobId),
      );

      // not due yet: the same transaction is broadcast again, nothing else
      expect(await settlement.settle(step.jobId)).toBe('waiting');
      expect(await step.row()).toMatchObject({ txHash: first.txHash, replacedHashes: [] });

      await sleep(REPRICE_MS + 200);
      expect(await settlement.settle(step.jobId)).toBe('waiting');
      const replaced = await step.row();
      expect(replaced).toMatchObject({
        status: 'SENT',
        nonce: first.nonce,
        replacedHashes: [first.txHash],
        error: null,
      });
      expect(replaced.txHash).not.toBe(first.txHash);
      const bump = Transaction.from(replaced.rawTx!);
      expect(bump.hash).toBe(replaced.txHash);
      expect(bump.from).toBe(firstTx.from);
      expect(bump.nonce).toBe(firstTx.nonce);
      expect(bump.to).toBe(firstTx.to);
      expect(bump.data).toBe(firstTx.data);
      expect(bump.gasLimit).toBe(firstTx.gasLimit);
      expect(bump.maxFeePerGas!).toBeGreaterThanOrEqual(bumped(firstTx.maxFeePerGas!));
      expect(bump.maxPriorityFeePerGas!).toBeGreaterThanOrEqual(
        bumped(firstTx.maxPriorityFeePerGas!),
      );
      // above the base fee of the block to come, which takes it
      const head = await chain.provider.getBlock('latest');
      expect(bump.maxFeePerGas!).toBeGreaterThan(head!.baseFeePerGas!);
      await mine();
      return { first, replaced };
    });

    expect((await receipt(replaced.txHash!))?.status).toBe(1);
    expect(await settlement.settle(step.jobId)).toBe('waiting'); // not deep enough yet
    await mine(CONFIRMATIONS);
    expect(await settlement.settle(step.jobId)).toBe('settled');
    expect(await step.row()).toMatchObject({
      status: 'CONFIRMED',
      txHash: replaced.txHash,
      replacedHashes: [first.txHash],
      outcome: { total: '50' },
    });
    expect((await step.job()).payment).toBe('SETTLED');
    // a further pass changes nothing
    expect(await settlement.settle(step.jobId)).toBe('nothing');

    // paid once, and the ledger and the chain agree to the wei
    expect(await receipt(first.txHash!)).toBeNull();
    const ledger = await prisma.ledgerEntry.findMany({ where: { jobId: step.jobId } });
    expect(ledger.map((e) => [e.kind, e.address, e.amountWei.toFixed(0), e.chainTxId])).toEqual([
      ['SETTLED', operator().address, '50', replaced.id],
    ]);
    expect(await escrow.balanceOf(operator().address)).toBe(before + 50n);
    expect((await escrow.getJob(step.jobKey)).spent).toBe(50n);
    const logs = await chain.provider.getLogs({
      address: escrow.address,
      topics: [null, step.jobKey],
      fromBlock: 0,
    });
    const settled = escrowEvents(logs).filter((e) => e.name === 'BatchSettled');
    expect(settled.map((e) => [String(e.args.total), e.log.transactionHash])).toEqual([
      ['50', replaced.txHash],
    ]);
  });

  it('counts an earlier transaction mined after its replacement was stored, not sent', async () => {
    const service = repricing();
    const step = await jobWithSettleStep(operator().address, 25n);
    const before = await escrow.balanceOf(operator().address);
    const { sent, replacement } = await withoutAutomine(async () => {
      const { sent, signed } = await sendAndStrand(step, async () =>
        service.advance(await step.row(), step.jobKey),
      );
      // a replica signs a replacement and stores it, then dies before broadcasting it
      const raw = await coordinatorChain.signer.signTransaction({
        type: 2,
        chainId: chain.chainId,
        nonce: signed.nonce,
        to: signed.to,
        data: signed.data,
        gasLimit: signed.gasLimit,
        maxFeePerGas: bumped(signed.maxFeePerGas!),
        maxPriorityFeePerGas: bumped(signed.maxPriorityFeePerGas!),
      });
      const replacement = Transaction.from(raw).hash!;
      expect(
        await repo.replaceSent({ ...sent, txHash: sent.txHash! }, { raw, hash: replacement }),
      ).toBe(true);
      // the fees fall before anyone broadcasts it: the first transaction is mined
      await setNextBaseFee(1n);
      await mine();
      return { sent, replacement };
    });
    expect((await receipt(sent.txHash!))?.status).toBe(1);
    expect(await step.row()).toMatchObject({ txHash: replacement, replacedHashes: [sent.txHash] });

    expect(await service.advance(await step.row(), step.jobKey)).toBe('waiting');
    expect(await step.row()).toMatchObject({ txHash: sent.txHash, replacedHashes: [replacement] });
    await mine(CONFIRMATIONS);
    expect(await service.advance(await step.row(), step.jobKey)).toBe('confirmed');
    expect(await step.row()).toMatchObject({
      status: 'CONFIRMED',
      txHash: sent.txHash,
      outcome: { total: '25' },
    });
    expect(await receipt(replacement)).toBeNull();
    expect(await escrow.balanceOf(operator().address)).toBe(before + 25n);
  });

  it('waits at CHAIN_MAX_FEE_PER_GAS_WEI with a note, and goes through once fees fall', async () => {
    const step = await jobWithSettleStep(operator().address, 15n);
    const before = await escrow.balanceOf(operator().address);
    const sent = await withoutAutomine(async () => {
      // room for the first signature at the chain's fees, not for a 12.5% bump
      const { maxFeePerGas } = await chain.provider.getFeeData();
      const cap = maxFeePerGas! + maxFeePerGas! / 20n;
      const service = repricing(cap);
      const { sent, signed } = await sendAndStrand(step, async () =>
        service.advance(await step.row(), step.jobKey),
      );
      expect(signed.maxFeePerGas).toBe(maxFeePerGas);

      await sleep(REPRICE_MS + 200);
      expect(await service.advance(await step.row(), step.jobKey)).toBe('waiting');
      const waiting = await step.row();
      expect(waiting).toMatchObject({ status: 'SENT', txHash: sent.txHash, replacedHashes: [] });
      expect(waiting.error).toContain(`${sent.txHash} (nonce ${sent.nonce}) unmined for`);
      expect(await step.job()).toMatchObject({
        payment: 'SETTLING',
        paymentNote:
          `fees at the cap: a settlement transaction waits unmined at ${maxFeePerGas} wei per ` +
          `gas; replacing it needs ${bumped(maxFeePerGas!)}, above CHAIN_MAX_FEE_PER_GAS_WEI ` +
          `(${cap}). It goes through when the chain's fees fall or the cap is raised`,
      });
      // still waiting, still the one transaction
      expect(await service.advance(await step.row(), step.jobKey)).toBe('waiting');
      expect((await step.row()).txHash).toBe(sent.txHash);

      // the base fee falls back under what it offers: it is mined as it was
      await setNextBaseFee(1n);
      await mine();
      return sent;
    });
    const service = repricing();
    expect((await receipt(sent.txHash!))?.status).toBe(1);
    expect(await service.advance(await step.row(), step.jobKey)).toBe('waiting');
    expect(await step.row()).toMatchObject({ error: null, replacedHashes: [] });
    expect((await step.job()).paymentNote).toBeNull();
    await mine(CONFIRMATIONS);
    expect(await service.advance(await step.row(), step.jobKey)).toBe('confirmed');
    expect(await escrow.balanceOf(operator().address)).toBe(before + 15n);
  });
});
