// Typed access to the TesseraEscrow contract through ethers v6. Writes return the transaction
// response (the caller decides how long to wait and how to retry); reads return plain values.
// Amounts are wei as bigint, job ids bytes32 (jobIdToBytes32 turns a job's UUID into one).
import {
  Contract,
  ContractFactory,
  type ContractRunner,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  Interface,
  type Log,
  type Overrides,
  type Signer,
  ZeroHash,
  id,
} from 'ethers';
import artifact from './artifacts/TesseraEscrow.json';

export type Bytes32 = string;

/** The compiled contract (committed; `npm run contracts` rebuilds it from the Solidity source). */
export const ESCROW_ARTIFACT: {
  contractName: string;
  abi: readonly unknown[];
  bytecode: string;
  solcVersion: string;
  sourceHash: string;
} = artifact;

export const escrowInterface = new Interface(artifact.abi as never);
export const DEFAULT_ADMIN_ROLE: Bytes32 = ZeroHash;
export const COORDINATOR_ROLE: Bytes32 = id('COORDINATOR_ROLE');

export interface EscrowJob {
  /** Zero address when the job was never funded. */
  requester: string;
  budget: bigint;
  spent: bigint;
  /** Unix seconds of the first funding (0 when never funded). */
  fundedAt: bigint;
  closed: boolean;
}

export interface EscrowDeployOptions {
  admin: string;
  coordinator: string;
  /** Receives slashed stake when the job has no requester. */
  treasury: string;
  unstakeDelaySeconds: number | bigint;
  /** After fundedAt + this, a requester may reclaim a job the coordinator never closed. */
  jobTimeoutSeconds: number | bigint;
}

export interface EscrowEvent {
  name: string;
  args: Record<string, unknown>;
  log: Log;
}

export interface EscrowError {
  name: string;
  args: Record<string, unknown>;
}

export class EscrowClient {
  readonly contract: Contract;

  constructor(
    readonly address: string,
    readonly runner: ContractRunner,
  ) {
    this.contract = new Contract(address, escrowInterface, runner);
  }

  /** The same escrow through another signer or provider. */
  connect(runner: ContractRunner): EscrowClient {
    return new EscrowClient(this.address, runner);
  }

  // ---------------------------------------------------------------- writes

  fund(jobId: Bytes32, value: bigint, overrides: Overrides = {}) {
    return this.send('fund', [jobId], { ...overrides, value });
  }

  stake(value: bigint, overrides: Overrides = {}) {
    return this.send('stake', [], { ...overrides, value });
  }

  requestUnstake(amount: bigint, overrides: Overrides = {}) {
    return this.send('requestUnstake', [amount], overrides);
  }

  completeUnstake(overrides: Overrides = {}) {
    return this.send('completeUnstake', [], overrides);
  }

  /** Coordinator only. One entry per payee; `batchId` settles at most once per job. */
  settle(
    jobId: Bytes32,
    batchId: bigint | number,
    payees: readonly string[],
    amounts: readonly bigint[],
    overrides: Overrides = {},
  ) {
    return this.send('settle', [jobId, batchId, [...payees], [...amounts]], overrides);
  }

  /** Coordinator only. Takes min(amount, stake + pending unstake); idempotent per slashId. */
  slash(
    jobId: Bytes32,
    operator: string,
    amount: bigint,
    slashId: Bytes32,
    overrides: Overrides = {},
  ) {
    return this.send('slash', [jobId, operator, amount, slashId], overrides);
  }

  /** Coordinator only. Refunds budget - spent to the requester's withdrawable balance. */
  closeJob(jobId: Bytes32, overrides: Overrides = {}) {
    return this.send('closeJob', [jobId], overrides);
  }

  /** Requester only, after fundedAt + jobTimeout: closeJob's effect without the coordinator. */
  reclaim(jobId: Bytes32, overrides: Overrides = {}) {
    return this.send('reclaim', [jobId], overrides);
  }

  withdraw(overrides: Overrides = {}) {
    return this.send('withdraw', [], overrides);
  }

  pause(overrides: Overrides = {}) {
    return this.send('pause', [], overrides);
  }

  unpause(overrides: Overrides = {}) {
    return this.send('unpause', [], overrides);
  }

  setTreasury(treasury: string, overrides: Overrides = {}) {
    return this.send('setTreasury', [treasury], overrides);
  }

  rotateCoordinator(oldCoordinator: string, newCoordinator: string, overrides: Overrides = {}) {
    return this.send('rotateCoordinator', [oldCoordinator, newCoordinator], overrides);
  }

  grantRole(role: Bytes32, account: string, overrides: Overrides = {}) {
    return this.send('grantRole', [role, account], overrides);
  }

  revokeRole(role: Bytes32, account: string, overrides: Overrides = {}) {
    return this.send('revokeRole', [role, account], overrides);
  }

  // ---------------------------------------------------------------- reads

  async getJob(jobId: Bytes32): Promise<EscrowJob> {
    const [requester, budget, spent, fundedAt, closed] = (await this.call('jobs', [jobId])) as [
      string,
      bigint,
      bigint,
      bigint,
      boolean,
    ];
    return { requester, budget, spent, fundedAt, closed };
  }

  async isSettled(jobId: Bytes32, batchId: bigint | number): Promise<boolean> {
    return (await this.call('isSettled', [jobId, batchId])) as boolean;
  }

  async isSlashApplied(slashId: Bytes32): Promise<boolean> {
    return (await this.call('isSlashApplied', [slashId])) as boolean;
  }

  async stakeOf(operator: string): Promise<bigint> {
    return (await this.call('stakeOf', [operator])) as bigint;
  }

  async pendingUnstakeOf(operator: string): Promise<bigint> {
    return (await this.call('pendingUnstakeOf', [operator])) as bigint;
  }

  /** Unix seconds when completeUnstake will accept the pending stake. */
  async unstakeReadyAt(operator: string): Promise<bigint> {
    return (await this.call('unstakeReadyAt', [operator])) as bigint;
  }

  /** What `account` can withdraw now. */
  async balanceOf(account: string): Promise<bigint> {
    return (await this.call('balanceOf', [account])) as bigint;
  }

  async treasury(): Promise<string> {
    return (await this.call('treasury', [])) as string;
  }

  async paused(): Promise<boolean> {
    return (await this.call('paused', [])) as boolean;
  }

  async unstakeDelay(): Promise<bigint> {
    return (await this.call('unstakeDelay', [])) as bigint;
  }

  async jobTimeout(): Promise<bigint> {
    return (await this.call('jobTimeout', [])) as bigint;
  }

  async hasRole(role: Bytes32, account: string): Promise<boolean> {
    return (await this.call('hasRole', [role, account])) as boolean;
  }

  async isCoordinator(account: string): Promise<boolean> {
    return this.hasRole(COORDINATOR_ROLE, account);
  }

  // ---------------------------------------------------------------- internals

  private send(name: string, args: unknown[], overrides: Overrides) {
    return this.contract
      .getFunction(name)
      .send(...args, overrides) as Promise<ContractTransactionResponse>;
  }

  private call(name: string, args: unknown[]): Promise<unknown> {
    return this.contract.getFunction(name).staticCall(...args);
  }
}

/** Deploys a new escrow; resolves once the deployment is mined. */
export async function deployEscrow(
  signer: Signer,
  options: EscrowDeployOptions,
): Promise<{ client: EscrowClient; receipt: ContractTransactionReceipt }> {
  const factory = new ContractFactory(escrowInterface, artifact.bytecode, signer);
  const contract = await factory.deploy(
    options.admin,
    options.coordinator,
    options.treasury,
    BigInt(options.unstakeDelaySeconds),
    BigInt(options.jobTimeoutSeconds),
  );
  const receipt = await contract.deploymentTransaction()?.wait();
  if (!receipt) throw new Error('escrow deployment produced no receipt');
  return { client: new EscrowClient(await contract.getAddress(), signer), receipt };
}

/** The escrow's events in a receipt (or any logs), decoded; other contracts' logs are skipped. */
export function escrowEvents(
  source: { logs: readonly Log[] } | readonly Log[],
  address?: string,
): EscrowEvent[] {
  const logs = 'logs' in source ? source.logs : source;
  const events: EscrowEvent[] = [];
  for (const log of logs) {
    if (address && log.address.toLowerCase() !== address.toLowerCase()) continue;
    const parsed = escrowInterface.parseLog(log);
    if (!parsed) continue;
    events.push({ name: parsed.name, args: namedArgs(parsed.fragment.inputs, parsed.args), log });
  }
  return events;
}

/**
 * The escrow's custom error (e.g. BudgetExceeded) behind a failed call or transaction, or null when
 * the failure was something else (network, nonce, out of gas...).
 */
export function decodeEscrowError(error: unknown): EscrowError | null {
  const data = revertData(error);
  if (!data) return null;
  try {
    const parsed = escrowInterface.parseError(data);
    return parsed
      ? { name: parsed.name, args: namedArgs(parsed.fragment.inputs, parsed.args) }
      : null;
  } catch {
    return null;
  }
}

function namedArgs(
  inputs: readonly { name: string }[],
  values: readonly unknown[],
): Record<string, unknown> {
  return Object.fromEntries(inputs.map((input, i) => [input.name || String(i), values[i]]));
}

// ethers puts the revert data at different depths depending on where the call failed
// (estimateGas, eth_call, a mined transaction's replay).
function revertData(error: unknown, depth = 0): string | null {
  if (!error || typeof error !== 'object' || depth > 4) return null;
  const e = error as { data?: unknown; error?: unknown; info?: { error?: unknown } };
  if (typeof e.data === 'string' && /^0x[0-9a-f]{8}/i.test(e.data)) return e.data;
  return revertData(e.error, depth + 1) ?? revertData(e.info?.error, depth + 1);
}
