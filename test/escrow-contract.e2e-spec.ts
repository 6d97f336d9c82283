// TesseraEscrow against a real EVM node (hardhat node, started once for this file): every path of
// the contract and the attacks the escrow must withstand. Each test deploys a fresh escrow and ends
// with a solvency check: the ETH the contract holds equals everything it owes.
import {
  Contract,
  ContractFactory,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  JsonRpcProvider,
  type Wallet,
  ZeroAddress,
  id,
  parseEther,
} from 'ethers';
import {
  COORDINATOR_ROLE,
  DEFAULT_ADMIN_ROLE,
  EscrowClient,
  type LocalChain,
  decodeEscrowError,
  deployEscrow,
  escrowEvents,
  escrowInterface,
  jobIdToBytes32,
  startLocalChain,
  startRpcProxy,
} from '@tessera/escrow';
import { artifactOf, compileSolidity } from '../scripts/compile-contracts';

const UNSTAKE_DELAY = 3600;
const JOB_TIMEOUT = 86_400;
const ETH = parseEther('1');

let chain: LocalChain;
let receiverArtifact: { abi: unknown[]; bytecode: string };
let admin: Wallet;
let coordinator: Wallet;
let treasury: Wallet;
let requester: Wallet;
let requester2: Wallet;
let op1: Wallet;
let op2: Wallet;
let op3: Wallet;
let stranger: Wallet;
let newCoordinator: Wallet;

let escrow: EscrowClient;
/** Jobs and accounts the current test touched, for the solvency check. */
let jobsSeen: Set<string>;
let accountsSeen: Set<string>;

beforeAll(async () => {
  chain = await startLocalChain({ accounts: 10 });
  [admin, coordinator, treasury, requester, requester2, op1, op2, op3, stranger, newCoordinator] =
    chain.accounts;
  receiverArtifact = artifactOf(
    compileSolidity(['contracts/test/ReentrantReceiver.sol']),
    'ReentrantReceiver',
  );
});

afterAll(() => chain?.stop());

beforeEach(async () => {
  ({ client: escrow } = await deployEscrow(admin, {
    admin: admin.address,
    coordinator: coordinator.address,
    treasury: treasury.address,
    unstakeDelaySeconds: UNSTAKE_DELAY,
    jobTimeoutSeconds: JOB_TIMEOUT,
  }));
  jobsSeen = new Set();
  accountsSeen = new Set(chain.accounts.map((a) => a.address));
});

afterEach(async () => {
  // Solvency: held ETH == withdrawable balances + stakes + pending unstakes + open budgets.
  const perAccount = await Promise.all(
    [...accountsSeen].flatMap((account) => [
      escrow.balanceOf(account),
      escrow.stakeOf(account),
      escrow.pendingUnstakeOf(account),
    ]),
  );
  const jobs = await Promise.all([...jobsSeen].map((jobId) => escrow.getJob(jobId)));
  const owed =
    perAccount.reduce((sum, value) => sum + value, 0n) +
    jobs.reduce((sum, job) => sum + (job.closed ? 0n : job.budget - job.spent), 0n);
  expect(await chain.provider.getBalance(escrow.address)).toBe(owed);
});

// ------------------------------------------------------------------ helpers

let jobCounter = 0;
function newJob(): string {
  jobCounter += 1;
  const jobId = jobIdToBytes32(`00000000-0000-4000-8000-${String(jobCounter).padStart(12, '0')}`);
  jobsSeen.add(jobId);
  return jobId;
}

const actor = (wallet: Wallet) => escrow.connect(wallet);

async function mined(
  tx: Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error('no receipt');
  return receipt;
}

/** The escrow's events in a receipt as { name, ...args }. */
function events(receipt: ContractTransactionReceipt) {
  return escrowEvents(receipt, escrow.address).map((e) => ({ name: e.name, ...e.args }));
}

async function expectRevert(
  action: Promise<unknown>,
  name: string,
  args?: Record<string, unknown>,
): Promise<void> {
  let failure: unknown = null;
  try {
    const tx = (await action) as ContractTransactionResponse | undefined;
    if (tx && typeof tx.wait === 'function') await tx.wait();
  } catch (error) {
    failure = error;
  }
  if (failure === null) throw new Error(`expected a revert with ${name}, but the call succeeded`);
  const decoded = decodeEscrowError(failure);
  if (!decoded) throw new Error(`expected ${name}, got an undecodable failure: ${String(failure)}`);
  expect(decoded.name).toBe(name);
  if (args) expect(decoded.args).toEqual(args);
}

async function timestampOf(receipt: ContractTransactionReceipt): Promise<bigint> {
  const block = await chain.provider.getBlock(receipt.blockNumber);
  return BigInt(block!.timestamp);
}

async function advance(seconds: number): Promise<void> {
  await chain.provider.send('evm_increaseTime', [seconds]);
  await chain.provider.send('evm_mine', []);
}

const ethBalance = (address: string) => chain.provider.getBalance(address);

async function fundedJob(budget = ETH, by = requester): Promise<string> {
  const jobId = newJob();
  await mined(actor(by).fund(jobId, budget));
  return jobId;
}

// ------------------------------------------------------------------ tests

describe('deployment and roles', () => {
  it('grants the admin and coordinator roles and records the settings', async () => {
    expect(await escrow.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).toBe(true);
    expect(await escrow.isCoordinator(coordinator.address)).toBe(true);
    expect(await escrow.isCoordinator(admin.address)).toBe(false);
    expect(await escrow.treasury()).toBe(treasury.address);
    expect(await escrow.unstakeDelay()).toBe(BigInt(UNSTAKE_DELAY));
    expect(await escrow.jobTimeout()).toBe(BigInt(JOB_TIMEOUT));
    expect(await escrow.paused()).toBe(false);
    expect(COORDINATOR_ROLE).toBe(id('COORDINATOR_ROLE'));
  });

  it('refuses a zero admin, coordinator or treasury', async () => {
    const options = {
      admin: admin.address,
      coordinator: coordinator.address,
      treasury: treasury.address,
      unstakeDelaySeconds: 1,
      jobTimeoutSeconds: 1,
    };
    for (const field of ['admin', 'coordinator', 'treasury'] as const) {
      await expectRevert(deployEscrow(admin, { ...options, [field]: ZeroAddress }), 'ZeroAddress');
    }
  });

  it('rotates the coordinator: the old key loses settle, the new one gains it', async () => {
    const jobId = await fundedJob();
    const receipt = await mined(
      actor(admin).rotateCoordinator(coordinator.address, newCoordinator.address),
    );
    expect(events(receipt)).toEqual([
      expect.objectContaining({ name: 'RoleRevoked', account: coordinator.address }),
      expect.objectContaining({ name: 'RoleGranted', account: newCoordinator.address }),
    ]);
    await expectRevert(
      actor(coordinator).settle(jobId, 1n, [op1.address], [1n]),
      'AccessControlUnauthorizedAccount',
      { account: coordinator.address, neededRole: COORDINATOR_ROLE },
    );
    await mined(actor(newCoordinator).settle(jobId, 1n, [op1.address], [1n]));
    expect(await escrow.balanceOf(op1.address)).toBe(1n);

    await expectRevert(
      actor(admin).rotateCoordinator(coordinator.address, op2.address),
      'NotCoordinator',
      { account: coordinator.address },
    );
    await expectRevert(
      actor(admin).rotateCoordinator(newCoordinator.address, ZeroAddress),
      'ZeroAddress',
    );
    await expectRevert(
      actor(newCoordinator).rotateCoordinator(newCoordinator.address, stranger.address),
      'AccessControlUnauthorizedAccount',
      { account: newCoordinator.address, neededRole: DEFAULT_ADMIN_ROLE },
    );
  });

  it('lets the admin run two coordinators during a rotation with grantRole/revokeRole', async () => {
    const jobId = await fundedJob();
    await mined(actor(admin).grantRole(COORDINATOR_ROLE, newCoordinator.address));
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [1n]));
    await mined(actor(newCoordinator).settle(jobId, 2n, [op1.address], [1n]));
    await mined(actor(admin).revokeRole(COORDINATOR_ROLE, coordinator.address));
    await expectRevert(
      actor(coordinator).settle(jobId, 3n, [op1.address], [1n]),
      'AccessControlUnauthorizedAccount',
    );
  });

  it('lets only the admin change the treasury', async () => {
    await expectRevert(
      actor(stranger).setTreasury(stranger.address),
      'AccessControlUnauthorizedAccount',
      { account: stranger.address, neededRole: DEFAULT_ADMIN_ROLE },
    );
    await expectRevert(actor(admin).setTreasury(ZeroAddress), 'ZeroAddress');
    const receipt = await mined(actor(admin).setTreasury(op3.address));
    expect(events(receipt)).toEqual([
      {
        name: 'TreasuryChanged',
        previousTreasury: treasury.address,
        newTreasury: op3.address,
      },
    ]);
    expect(await escrow.treasury()).toBe(op3.address);
  });
});

describe('funding', () => {
  it('records the first funder as requester and lets only them top up', async () => {
    const jobId = newJob();
    const first = await mined(actor(requester).fund(jobId, ETH));
    expect(events(first)).toEqual([
      { name: 'JobFunded', jobId, requester: requester.address, amount: ETH, budget: ETH },
    ]);
    const fundedAt = await timestampOf(first);

    await advance(10);
    const topUp = await mined(actor(requester).fund(jobId, 2n * ETH));
    expect(events(topUp)).toEqual([
      {
        name: 'JobFunded',
        jobId,
        requester: requester.address,
        amount: 2n * ETH,
        budget: 3n * ETH,
      },
    ]);
    expect(await escrow.getJob(jobId)).toEqual({
      requester: requester.address,
      budget: 3n * ETH,
      spent: 0n,
      fundedAt, // the first funding starts the reclaim timeout; top-ups do not move it
      closed: false,
    });

    await expectRevert(actor(requester2).fund(jobId, ETH), 'NotRequester', {
      jobId,
      caller: requester2.address,
    });
    await expectRevert(actor(requester).fund(jobId, 0n), 'ZeroAmount');
    expect(await ethBalance(escrow.address)).toBe(3n * ETH);
  });

  it('refuses a budget beyond uint128 wei', async () => {
    const whale = requester2;
    await chain.provider.send('hardhat_setBalance', [
      whale.address,
      `0x${(2n ** 130n).toString(16)}`,
    ]);
    const jobId = newJob();
    await mined(actor(whale).fund(jobId, 2n ** 128n - 1n));
    await expectRevert(actor(whale).fund(jobId, 1n), 'AmountTooLarge', { amount: 2n ** 128n });
    expect((await escrow.getJob(jobId)).budget).toBe(2n ** 128n - 1n);
    await mined(actor(coordinator).closeJob(jobId));
    await mined(actor(whale).withdraw());
  });

  it('refuses funding a closed job', async () => {
    const jobId = await fundedJob();
    await mined(actor(coordinator).closeJob(jobId));
    await expectRevert(actor(requester).fund(jobId, ETH), 'JobIsClosed', { jobId });
  });

  it('reads an unknown job as empty', async () => {
    expect(await escrow.getJob(newJob())).toEqual({
      requester: ZeroAddress,
      budget: 0n,
      spent: 0n,
      fundedAt: 0n,
      closed: false,
    });
  });
});

describe('settlement', () => {
  it('credits each payee (pull payment) and moves no ETH', async () => {
    const jobId = await fundedJob(ETH);
    const before = await Promise.all([op1, op2].map((op) => ethBalance(op.address)));
    const receipt = await mined(
      actor(coordinator).settle(jobId, 7n, [op1.address, op2.address], [300n, 200n]),
    );
    expect(events(receipt)).toEqual([
      { name: 'Credited', jobId, payee: op1.address, amount: 300n },
      { name: 'Credited', jobId, payee: op2.address, amount: 200n },
      { name: 'BatchSettled', jobId, batchId: 7n, total: 500n },
    ]);
    expect(await escrow.balanceOf(op1.address)).toBe(300n);
    expect(await escrow.balanceOf(op2.address)).toBe(200n);
    expect((await escrow.getJob(jobId)).spent).toBe(500n);
    expect(await escrow.isSettled(jobId, 7n)).toBe(true);
    expect(await escrow.isSettled(jobId, 8n)).toBe(false);
    expect(await Promise.all([op1, op2].map((op) => ethBalance(op.address)))).toEqual(before);
    expect(await ethBalance(escrow.address)).toBe(ETH);
  });

  it('refuses a double settle of the same batch and changes nothing', async () => {
    const jobId = await fundedJob(ETH);
    const other = await fundedJob(ETH, requester2);
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [100n]));
    await expectRevert(
      actor(coordinator).settle(jobId, 1n, [op1.address], [100n]),
      'BatchAlreadySettled',
      { jobId, batchId: 1n },
    );
    // Different amounts or payees do not make it a new batch either.
    await expectRevert(
      actor(coordinator).settle(jobId, 1n, [op2.address], [5n]),
      'BatchAlreadySettled',
    );
    expect(await escrow.balanceOf(op1.address)).toBe(100n);
    expect(await escrow.balanceOf(op2.address)).toBe(0n);
    expect((await escrow.getJob(jobId)).spent).toBe(100n);
    // Batch ids are per job.
    await mined(actor(coordinator).settle(other, 1n, [op1.address], [100n]));
    expect(await escrow.balanceOf(op1.address)).toBe(200n);
  });

  it('refuses a batch beyond the remaining budget, to the wei', async () => {
    const jobId = await fundedJob(1000n);
    await expectRevert(
      actor(coordinator).settle(jobId, 1n, [op1.address, op2.address], [600n, 401n]),
      'BudgetExceeded',
      { jobId, requested: 1001n, available: 1000n },
    );
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [600n]));
    await expectRevert(
      actor(coordinator).settle(jobId, 2n, [op2.address], [401n]),
      'BudgetExceeded',
      { jobId, requested: 401n, available: 400n },
    );
    expect(await escrow.isSettled(jobId, 2n)).toBe(false);
    await mined(actor(coordinator).settle(jobId, 2n, [op2.address], [400n]));
    expect(await escrow.getJob(jobId)).toMatchObject({ budget: 1000n, spent: 1000n });
    await expectRevert(
      actor(coordinator).settle(jobId, 3n, [op3.address], [1n]),
      'BudgetExceeded',
      {
        jobId,
        requested: 1n,
        available: 0n,
      },
    );
  });

  it('keeps batch ids independent, including neighbours in one bitmap word and the extremes', async () => {
    const jobId = await fundedJob(ETH);
    const ids = [0n, 1n, 255n, 256n, 257n, 2n ** 256n - 1n];
    for (const batchId of ids) {
      await mined(actor(coordinator).settle(jobId, batchId, [op1.address], [1n]));
      expect(await escrow.isSettled(jobId, batchId)).toBe(true);
    }
    for (const batchId of [2n, 254n, 258n, 511n, 512n, 2n ** 256n - 2n, 2n ** 255n]) {
      expect(await escrow.isSettled(jobId, batchId)).toBe(false);
    }
    for (const batchId of ids) {
      await expectRevert(
        actor(coordinator).settle(jobId, batchId, [op1.address], [1n]),
        'BatchAlreadySettled',
        { jobId, batchId },
      );
    }
    expect(await escrow.balanceOf(op1.address)).toBe(BigInt(ids.length));
  });

  it('refuses an overflowing batch total instead of wrapping around', async () => {
    const jobId = await fundedJob(1000n);
    const max = 2n ** 256n - 1n;
    let failure: unknown = null;
    try {
      await actor(coordinator).settle(jobId, 1n, [op1.address, op2.address], [max, 2n]);
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).toMatch(/overflow|0x11/i); // Solidity's Panic(0x11)
    expect(await escrow.balanceOf(op1.address)).toBe(0n);
  });

  it('refuses callers without the coordinator role', async () => {
    const jobId = await fundedJob(ETH);
    for (const caller of [stranger, requester, admin, op1]) {
      await expectRevert(
        actor(caller).settle(jobId, 1n, [caller.address], [ETH]),
        'AccessControlUnauthorizedAccount',
        { account: caller.address, neededRole: COORDINATOR_ROLE },
      );
      await expectRevert(actor(caller).closeJob(jobId), 'AccessControlUnauthorizedAccount', {
        account: caller.address,
        neededRole: COORDINATOR_ROLE,
      });
      await expectRevert(
        actor(caller).slash(jobId, op2.address, 1n, id('s')),
        'AccessControlUnauthorizedAccount',
        { account: caller.address, neededRole: COORDINATOR_ROLE },
      );
    }
    expect(await escrow.getJob(jobId)).toMatchObject({ spent: 0n, closed: false });
  });

  it('refuses malformed batches and unknown or closed jobs', async () => {
    const jobId = await fundedJob(ETH);
    const c = actor(coordinator);
    await expectRevert(c.settle(jobId, 1n, [op1.address, op2.address], [1n]), 'LengthMismatch', {
      payees: 2n,
      amounts: 1n,
    });
    await expectRevert(c.settle(jobId, 1n, [], []), 'EmptyBatch');
    await expectRevert(c.settle(jobId, 1n, [ZeroAddress], [1n]), 'ZeroAddress');
    const unknown = newJob();
    await expectRevert(c.settle(unknown, 1n, [op1.address], [1n]), 'UnknownJob', {
      jobId: unknown,
    });
    await mined(c.closeJob(jobId));
    await expectRevert(c.settle(jobId, 1n, [op1.address], [1n]), 'JobIsClosed', { jobId });
  });
});

describe('closing and refunds', () => {
  it('refunds only the unspent budget after settlement, once', async () => {
    const jobId = await fundedJob(ETH);
    await mined(
      actor(coordinator).settle(jobId, 1n, [op1.address, op2.address], [ETH / 4n, ETH / 4n]),
    );
    const receipt = await mined(actor(coordinator).closeJob(jobId));
    expect(events(receipt)).toEqual([{ name: 'JobClosed', jobId, refund: ETH / 2n }]);
    expect(await escrow.getJob(jobId)).toMatchObject({
      budget: ETH,
      spent: ETH / 2n,
      closed: true,
    });
    expect(await escrow.balanceOf(requester.address)).toBe(ETH / 2n);
    // The operators keep what was settled.
    expect(await escrow.balanceOf(op1.address)).toBe(ETH / 4n);

    // No second refund, by either route.
    await expectRevert(actor(coordinator).closeJob(jobId), 'JobIsClosed', { jobId });
    await advance(JOB_TIMEOUT + 1);
    await expectRevert(actor(requester).reclaim(jobId), 'JobIsClosed', { jobId });
    expect(await escrow.balanceOf(requester.address)).toBe(ETH / 2n);

    const before = await ethBalance(requester.address);
    const withdrawal = await mined(actor(requester).withdraw());
    expect(await ethBalance(requester.address)).toBe(before + ETH / 2n - withdrawal.fee);
  });

  it('refunds nothing when the budget was spent, and everything when nothing was', async () => {
    const spentJob = await fundedJob(100n);
    await mined(actor(coordinator).settle(spentJob, 1n, [op1.address], [100n]));
    expect(events(await mined(actor(coordinator).closeJob(spentJob)))).toEqual([
      { name: 'JobClosed', jobId: spentJob, refund: 0n },
    ]);
    const cancelled = await fundedJob(ETH, requester2);
    expect(events(await mined(actor(coordinator).closeJob(cancelled)))).toEqual([
      { name: 'JobClosed', jobId: cancelled, refund: ETH },
    ]);
    expect(await escrow.balanceOf(requester.address)).toBe(0n);
    expect(await escrow.balanceOf(requester2.address)).toBe(ETH);
    const unknown = newJob();
    await expectRevert(actor(coordinator).closeJob(unknown), 'UnknownJob', { jobId: unknown });
  });

  it('lets the requester reclaim an abandoned job after the timeout, and nobody else', async () => {
    const jobId = newJob();
    const funded = await mined(actor(requester).fund(jobId, ETH));
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [ETH / 10n]));
    const reclaimableAt = (await timestampOf(funded)) + BigInt(JOB_TIMEOUT);
    await expectRevert(actor(requester).reclaim(jobId), 'TimeoutNotReached', { reclaimableAt });
    await advance(JOB_TIMEOUT);
    await expectRevert(actor(stranger).reclaim(jobId), 'NotRequester', {
      jobId,
      caller: stranger.address,
    });
    const receipt = await mined(actor(requester).reclaim(jobId));
    expect(events(receipt)).toEqual([{ name: 'JobClosed', jobId, refund: (ETH * 9n) / 10n }]);
    expect(await escrow.balanceOf(requester.address)).toBe((ETH * 9n) / 10n);
    await expectRevert(actor(coordinator).closeJob(jobId), 'JobIsClosed');
    const unknown = newJob();
    await expectRevert(actor(requester).reclaim(unknown), 'UnknownJob', { jobId: unknown });
  });
});

describe('withdrawals', () => {
  it('pays the whole balance once; a second withdraw reverts and pays nothing', async () => {
    const jobId = await fundedJob(ETH);
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [ETH / 3n]));
    await mined(actor(coordinator).settle(jobId, 2n, [op1.address], [ETH / 5n]));
    const owed = ETH / 3n + ETH / 5n;

    const before = await ethBalance(op1.address);
    const receipt = await mined(actor(op1).withdraw());
    expect(events(receipt)).toEqual([{ name: 'Withdrawn', account: op1.address, amount: owed }]);
    expect(await ethBalance(op1.address)).toBe(before + owed - receipt.fee);
    expect(await escrow.balanceOf(op1.address)).toBe(0n);

    const escrowBefore = await ethBalance(escrow.address);
    await expectRevert(actor(op1).withdraw(), 'NothingToWithdraw');
    expect(await ethBalance(escrow.address)).toBe(escrowBefore);
    await expectRevert(actor(stranger).withdraw(), 'NothingToWithdraw');
  });

  it('keeps the balance when the receiver refuses the payment', async () => {
    const receiver = await deployReceiver();
    const jobId = await fundedJob(ETH);
    await mined(actor(coordinator).settle(jobId, 1n, [receiver.address], [1234n]));
    await mined(receiver.contract.setRejectPayments(true));
    await expectRevert(
      receiver.exec(escrowInterface.encodeFunctionData('withdraw')),
      'TransferFailed',
      {
        account: receiver.address,
        amount: 1234n,
      },
    );
    expect(await escrow.balanceOf(receiver.address)).toBe(1234n);
    await mined(receiver.contract.setRejectPayments(false));
    await mined(receiver.exec(escrowInterface.encodeFunctionData('withdraw')));
    expect(await ethBalance(receiver.address)).toBe(1234n);
  });
});

describe('reentrancy from a malicious receiver', () => {
  const withdrawCall = () => escrowInterface.encodeFunctionData('withdraw');

  async function expectBlockedReentry(receiver: Receiver, paid: bigint) {
    expect(await receiver.contract.reentryAttempted()).toBe(true);
    expect(await receiver.contract.reentrySucceeded()).toBe(false);
    const reason = decodeEscrowError({ data: await receiver.contract.reentryRevertData() });
    expect(reason?.name).toBe('ReentrancyGuardReentrantCall');
    // Paid exactly once, exactly what it was owed.
    expect(await receiver.contract.receivedCount()).toBe(1n);
    expect(await receiver.contract.receivedTotal()).toBe(paid);
    expect(await ethBalance(receiver.address)).toBe(paid);
    expect(await escrow.balanceOf(receiver.address)).toBe(0n);
  }

  it('re-entering withdraw from receive() is stopped and pays once', async () => {
    const receiver = await deployReceiver();
    const jobId = await fundedJob(ETH);
    await mined(actor(coordinator).settle(jobId, 1n, [receiver.address], [ETH / 2n]));
    await mined(receiver.contract.setReentry(withdrawCall()));
    const escrowBefore = await ethBalance(escrow.address);

    const receipt = await mined(receiver.exec(withdrawCall()));
    expect(events(receipt)).toEqual([
      { name: 'Withdrawn', account: receiver.address, amount: ETH / 2n },
    ]);
    await expectBlockedReentry(receiver, ETH / 2n);
    expect(await ethBalance(escrow.address)).toBe(escrowBefore - ETH / 2n);
  });

  it('re-entering reclaim during a withdrawal is stopped (and reclaim works afterwards)', async () => {
    const receiver = await deployReceiver();
    const abandoned = newJob();
    await mined(receiver.exec(escrowInterface.encodeFunctionData('fund', [abandoned]), ETH));
    const paying = await fundedJob(ETH);
    await mined(actor(coordinator).settle(paying, 1n, [receiver.address], [1000n]));
    await advance(JOB_TIMEOUT + 1);
    await mined(
      receiver.contract.setReentry(escrowInterface.encodeFunctionData('reclaim', [abandoned])),
    );

    await mined(receiver.exec(withdrawCall()));
    await expectBlockedReentry(receiver, 1000n);
    expect((await escrow.getJob(abandoned)).closed).toBe(false);

    // It was the guard, not the timeout: outside a withdrawal the same reclaim succeeds.
    await mined(receiver.exec(escrowInterface.encodeFunctionData('reclaim', [abandoned])));
    expect(await escrow.balanceOf(receiver.address)).toBe(ETH);
  });

  it('a receiver holding the coordinator role cannot settle or close from inside withdraw', async () => {
    const receiver = await deployReceiver();
    await mined(actor(admin).grantRole(COORDINATOR_ROLE, receiver.address));
    const jobId = await fundedJob(ETH);
    await mined(actor(coordinator).settle(jobId, 1n, [receiver.address], [500n]));
    await mined(
      receiver.contract.setReentry(
        escrowInterface.encodeFunctionData('settle', [jobId, 2n, [receiver.address], [ETH / 2n]]),
      ),
    );
    await mined(receiver.exec(withdrawCall()));
    await expectBlockedReentry(receiver, 500n);
    expect(await escrow.isSettled(jobId, 2n)).toBe(false);
    expect((await escrow.getJob(jobId)).spent).toBe(500n);

    await mined(actor(coordinator).settle(jobId, 3n, [receiver.address], [700n]));
    await mined(
      receiver.contract.setReentry(escrowInterface.encodeFunctionData('closeJob', [jobId])),
    );
    await mined(receiver.exec(withdrawCall()));
    expect(await receiver.contract.reentrySucceeded()).toBe(false);
    expect(await receiver.contract.receivedTotal()).toBe(1200n);
    expect((await escrow.getJob(jobId)).closed).toBe(false);
  });

  it('re-entering completeUnstake during a withdrawal is stopped', async () => {
    const receiver = await deployReceiver();
    await mined(receiver.exec(escrowInterface.encodeFunctionData('stake'), ETH));
    await mined(receiver.exec(escrowInterface.encodeFunctionData('requestUnstake', [ETH / 2n])));
    await advance(UNSTAKE_DELAY + 1);
    await mined(receiver.exec(escrowInterface.encodeFunctionData('completeUnstake')));
    await mined(receiver.exec(escrowInterface.encodeFunctionData('requestUnstake', [ETH / 2n])));
    await advance(UNSTAKE_DELAY + 1);
    await mined(
      receiver.contract.setReentry(escrowInterface.encodeFunctionData('completeUnstake')),
    );
    await mined(receiver.exec(withdrawCall()));
    await expectBlockedReentry(receiver, ETH / 2n);
    expect(await escrow.pendingUnstakeOf(receiver.address)).toBe(ETH / 2n);
  });
});

describe('staking', () => {
  it('stakes, unstakes after the delay and withdraws', async () => {
    const staked = await mined(actor(op1).stake(ETH));
    expect(events(staked)).toEqual([
      { name: 'Staked', operator: op1.address, amount: ETH, stake: ETH },
    ]);
    await mined(actor(op1).stake(ETH));
    expect(await escrow.stakeOf(op1.address)).toBe(2n * ETH);

    await expectRevert(actor(op1).requestUnstake(3n * ETH), 'InsufficientStake', {
      requested: 3n * ETH,
      available: 2n * ETH,
    });
    await expectRevert(actor(op1).requestUnstake(0n), 'ZeroAmount');
    await expectRevert(actor(op1).stake(0n), 'ZeroAmount');
    await expectRevert(actor(op1).completeUnstake(), 'NoPendingUnstake');

    const request = await mined(actor(op1).requestUnstake(ETH / 2n));
    const readyAt = (await timestampOf(request)) + BigInt(UNSTAKE_DELAY);
    expect(events(request)).toEqual([
      { name: 'UnstakeRequested', operator: op1.address, amount: ETH / 2n, readyAt },
    ]);
    expect(await escrow.stakeOf(op1.address)).toBe((3n * ETH) / 2n);
    expect(await escrow.pendingUnstakeOf(op1.address)).toBe(ETH / 2n);
    expect(await escrow.unstakeReadyAt(op1.address)).toBe(readyAt);
    await expectRevert(actor(op1).completeUnstake(), 'UnstakeNotReady', { readyAt });

    await advance(UNSTAKE_DELAY);
    const done = await mined(actor(op1).completeUnstake());
    expect(events(done)).toEqual([{ name: 'Unstaked', operator: op1.address, amount: ETH / 2n }]);
    expect(await escrow.pendingUnstakeOf(op1.address)).toBe(0n);
    expect(await escrow.balanceOf(op1.address)).toBe(ETH / 2n);
    await mined(actor(op1).withdraw());
    expect(await escrow.balanceOf(op1.address)).toBe(0n);
  });

  it('restarts the delay when more stake is requested out', async () => {
    await mined(actor(op1).stake(ETH));
    await mined(actor(op1).requestUnstake(ETH / 2n));
    await advance(UNSTAKE_DELAY - 10);
    const second = await mined(actor(op1).requestUnstake(ETH / 2n));
    const readyAt = (await timestampOf(second)) + BigInt(UNSTAKE_DELAY);
    await advance(20);
    await expectRevert(actor(op1).completeUnstake(), 'UnstakeNotReady', { readyAt });
  });
});

describe('slashing', () => {
  it('takes the stake and compensates the job requester', async () => {
    const jobId = await fundedJob(ETH);
    await mined(actor(op1).stake(ETH));
    const slashId = id('verdict-1');
    const receipt = await mined(actor(coordinator).slash(jobId, op1.address, ETH / 4n, slashId));
    expect(events(receipt)).toEqual([
      {
        name: 'Slashed',
        jobId,
        operator: op1.address,
        requested: ETH / 4n,
        taken: ETH / 4n,
        slashId,
      },
    ]);
    expect(await escrow.stakeOf(op1.address)).toBe((ETH * 3n) / 4n);
    expect(await escrow.balanceOf(requester.address)).toBe(ETH / 4n);
    expect(await escrow.isSlashApplied(slashId)).toBe(true);
    // The job's budget is untouched: compensation comes on top of the refund.
    expect((await escrow.getJob(jobId)).spent).toBe(0n);
  });

  it('applies each slashId once', async () => {
    const jobId = await fundedJob(ETH);
    await mined(actor(op1).stake(ETH));
    const slashId = id('verdict-2');
    await mined(actor(coordinator).slash(jobId, op1.address, 100n, slashId));
    await expectRevert(
      actor(coordinator).slash(jobId, op1.address, 100n, slashId),
      'SlashAlreadyApplied',
      { slashId },
    );
    expect(await escrow.stakeOf(op1.address)).toBe(ETH - 100n);
    expect(await escrow.balanceOf(requester.address)).toBe(100n);
  });

  it('never takes more than the operator has (stake + pending), nor anyone else money', async () => {
    const jobId = await fundedJob(ETH);
    await mined(actor(op1).stake(ETH));
    await mined(actor(op1).requestUnstake(ETH / 2n)); // pending stake is still slashable
    await mined(actor(op2).stake(2n * ETH));
    await mined(actor(coordinator).settle(jobId, 1n, [op1.address], [300n])); // earned, not stake

    const receipt = await mined(
      actor(coordinator).slash(jobId, op1.address, 5n * ETH, id('verdict-3')),
    );
    expect(events(receipt)).toEqual([
      expect.objectContaining({ name: 'Slashed', requested: 5n * ETH, taken: ETH }),
    ]);
    expect(await escrow.stakeOf(op1.address)).toBe(0n);
    expect(await escrow.pendingUnstakeOf(op1.address)).toBe(0n);
    expect(await escrow.balanceOf(requester.address)).toBe(ETH);
    // Others' stake, the operator's earned balance and the job budget are untouched.
    expect(await escrow.stakeOf(op2.address)).toBe(2n * ETH);
    expect(await escrow.balanceOf(op1.address)).toBe(300n);
    expect(await escrow.getJob(jobId)).toMatchObject({ budget: ETH, spent: 300n });
    await expectRevert(actor(op1).completeUnstake(), 'NoPendingUnstake');

    // Nothing left: a further verdict takes nothing and credits nobody.
    const empty = await mined(actor(coordinator).slash(jobId, op1.address, ETH, id('verdict-4')));
    expect(events(empty)).toEqual([expect.objectContaining({ name: 'Slashed', taken: 0n })]);
    expect(await escrow.balanceOf(requester.address)).toBe(ETH);
  });

  it('takes from stake first, then from pending unstake', async () => {
    const jobId = await fundedJob(ETH);
    await mined(actor(op1).stake(ETH));
    await mined(actor(op1).requestUnstake((ETH * 3n) / 4n));
    await mined(actor(coordinator).slash(jobId, op1.address, ETH / 2n, id('verdict-5')));
    expect(await escrow.stakeOf(op1.address)).toBe(0n);
    expect(await escrow.pendingUnstakeOf(op1.address)).toBe(ETH / 2n);
  });

  it('sends the slash to the treasury when the job has no requester', async () => {
    const unknown = newJob();
    await mined(actor(op1).stake(ETH));
    await mined(actor(coordinator).slash(unknown, op1.address, 10n, id('verdict-6')));
    expect(await escrow.balanceOf(treasury.address)).toBe(10n);
    await mined(actor(admin).setTreasury(op3.address));
    await mined(actor(coordinator).slash(unknown, op1.address, 5n, id('verdict-7')));
    expect(await escrow.balanceOf(op3.address)).toBe(5n);
    await expectRevert(actor(coordinator).slash(unknown, op1.address, 0n, id('v8')), 'ZeroAmount');
  });
});

describe('pause', () => {
  it('stops new money and payouts but never exits', async () => {
    const jobId = await fundedJob(ETH);
    const abandoned = await fundedJob(ETH, requester2);
    await mined(actor(op1).stake(ETH));
    await mined(actor(op1).requestUnstake(ETH / 4n));
    await mined(actor(coordinator).settle(jobId, 1n, [op2.address], [100n]));

    await expectRevert(actor(stranger).pause(), 'AccessControlUnauthorizedAccount', {
      account: stranger.address,
      neededRole: DEFAULT_ADMIN_ROLE,
    });
    await mined(actor(admin).pause());
    expect(await escrow.paused()).toBe(true);

    await expectRevert(actor(requester).fund(jobId, ETH), 'EnforcedPause');
    await expectRevert(actor(requester).fund(newJob(), ETH), 'EnforcedPause');
    await expectRevert(actor(op1).stake(ETH), 'EnforcedPause');
    await expectRevert(actor(coordinator).settle(jobId, 2n, [op2.address], [1n]), 'EnforcedPause');
    await expectRevert(
      actor(coordinator).slash(jobId, op1.address, 1n, id('paused')),
      'EnforcedPause',
    );

    // Exits keep working.
    await mined(actor(op2).withdraw());
    await mined(actor(op1).requestUnstake(ETH / 4n));
    await advance(Math.max(UNSTAKE_DELAY, JOB_TIMEOUT) + 1);
    await mined(actor(op1).completeUnstake());
    await mined(actor(op1).withdraw());
    await mined(actor(requester2).reclaim(abandoned));
    await mined(actor(coordinator).closeJob(jobId));
    await mined(actor(requester).withdraw());
    expect(await escrow.balanceOf(requester.address)).toBe(0n);

    await expectRevert(actor(stranger).unpause(), 'AccessControlUnauthorizedAccount');
    await mined(actor(admin).unpause());
    await mined(actor(op1).stake(ETH));
    expect(await escrow.stakeOf(op1.address)).toBe((ETH * 3n) / 2n);
  });
});

describe('RPC outage proxy', () => {
  it('cut() makes the node unreachable, restore() brings it back with its state', async () => {
    const proxy = await startRpcProxy(chain.url);
    const provider = new JsonRpcProvider(proxy.url, Number(chain.chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    try {
      const jobId = newJob();
      const viaProxy = escrow.connect(requester.connect(provider));
      await mined(viaProxy.fund(jobId, ETH));
      const height = await provider.getBlockNumber();

      proxy.cut();
      expect(proxy.isCut).toBe(true);
      await expect(provider.getBlockNumber()).rejects.toThrow();
      await expect(viaProxy.fund(jobId, ETH)).rejects.toThrow();

      proxy.restore();
      expect(await provider.getBlockNumber()).toBe(height); // nothing was mined meanwhile
      expect((await viaProxy.getJob(jobId)).budget).toBe(ETH);
    } finally {
      provider.destroy();
      await proxy.close();
    }
  });
});

// ------------------------------------------------------------------ the attacker contract

interface Receiver {
  address: string;
  contract: Contract;
  exec(data: string, value?: bigint): Promise<ContractTransactionResponse>;
}

async function deployReceiver(): Promise<Receiver> {
  const factory = new ContractFactory(
    receiverArtifact.abi as never,
    receiverArtifact.bytecode,
    stranger,
  );
  const deployed = await factory.deploy(escrow.address);
  await deployed.waitForDeployment();
  const address = await deployed.getAddress();
  const contract = new Contract(address, receiverArtifact.abi as never, stranger);
  accountsSeen.add(address);
  return {
    address,
    contract,
    exec: (data, value = 0n) =>
      contract.getFunction('exec').send(data, { value }) as Promise<ContractTransactionResponse>,
  };
}
