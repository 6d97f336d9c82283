// `render-node earnings | stake | unstake | withdraw`: the operator's money. Chain calls are
// signed with the node's own key against an RPC the operator chooses (--rpc-url); the coordinator
// only says which chain and escrow it settles on, and keeps the ledger of what was earned.
import { formatEther, Wallet } from 'ethers';
import { AgentConfig } from '../../config/agent-config';
import {
  CoordinatorClient,
  CoordinatorError,
  NodeEarnings,
} from '../../coordinator/coordinator-client';
import { loadNodeKey } from '../../identity/node-key';
import { OperatorBalances, OperatorPayouts, parseAmount } from '../../payouts/operator-payouts';
import { passwordSource } from '../password';

export interface PayoutOptions {
  rpcUrl?: string;
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
}

async function nodeKey(config: AgentConfig, opts: PayoutOptions) {
  return loadNodeKey(
    config.keyFile,
    passwordSource({ passwordFile: opts.passwordFile, env: opts.env }),
  );
}

function requireRpc(opts: PayoutOptions): string {
  const url = opts.rpcUrl ?? (opts.env ?? process.env).TESSERA_RPC_URL;
  if (!url) throw new Error('give the chain with --rpc-url <url> (or TESSERA_RPC_URL)');
  return url;
}

async function withEscrow<T>(
  config: AgentConfig,
  opts: PayoutOptions,
  fn: (p: OperatorPayouts) => Promise<T>,
): Promise<T> {
  const key = await nodeKey(config, opts);
  const payouts = await OperatorPayouts.connect(
    config.coordinator,
    requireRpc(opts),
    new Wallet(key.privateKey),
  );
  try {
    return await fn(payouts);
  } finally {
    payouts.close();
  }
}

export interface EarningsReport {
  address: string;
  /** the coordinator's ledger; null with the reason when it could not be read */
  ledger: NodeEarnings | null;
  ledgerError?: string;
  /** the escrow's balances; null without --rpc-url */
  escrow: OperatorBalances | null;
}

export async function runEarnings(
  config: AgentConfig,
  opts: PayoutOptions,
): Promise<EarningsReport> {
  const key = await nodeKey(config, opts);
  const client = new CoordinatorClient(config.coordinator, key);
  let ledger: NodeEarnings | null = null;
  let ledgerError: string | undefined;
  try {
    // the same ask as the agent's: a login replaces the node's registered ask price
    await client.login(config.name, undefined, config.askPriceWei);
    ledger = await client.earnings();
  } catch (e) {
    // e.g. a coordinator that requires more stake than the node has left after a slash
    if (!(e instanceof CoordinatorError)) throw e;
    ledgerError = e.message;
  }
  const rpcUrl = opts.rpcUrl ?? (opts.env ?? process.env).TESSERA_RPC_URL;
  const escrow = rpcUrl ? await withEscrow(config, { ...opts, rpcUrl }, (p) => p.balances()) : null;
  return { address: key.address, ledger, ledgerError, escrow };
}

export async function runStake(config: AgentConfig, amount: string, opts: PayoutOptions) {
  const wei = parseAmount(amount);
  return withEscrow(config, opts, async (p) => ({
    ...(await p.stake(wei)),
    ...(await p.balances()),
  }));
}

export async function runUnstake(
  config: AgentConfig,
  amount: string | undefined,
  opts: PayoutOptions & { complete?: boolean },
) {
  return withEscrow(config, opts, async (p) => {
    if (opts.complete) return { ...(await p.completeUnstake()), ...(await p.balances()) };
    if (!amount) throw new Error('give the amount to unstake, or --complete to finish one');
    return { ...(await p.requestUnstake(parseAmount(amount))), ...(await p.balances()) };
  });
}

export async function runWithdraw(config: AgentConfig, opts: PayoutOptions) {
  return withEscrow(config, opts, async (p) => {
    const { withdrawableWei } = await p.balances();
    const { txHash } = await p.withdraw();
    return { txHash, withdrawnWei: withdrawableWei, ...(await p.balances()) };
  });
}

const eth = (wei: bigint | string) => `${formatEther(wei)} ETH`;

/** The text form of the reports (the CLI prints JSON with --json). */
export function describeEarnings(r: EarningsReport): string[] {
  const lines = [`node ${r.address}`];
  if (r.ledger) {
    lines.push(
      `  earned (settled)   ${eth(r.ledger.settledWei)}`,
      `  pending            ${eth(r.ledger.pendingWei)} (verified, settlement not confirmed yet)`,
      `  slashed            ${eth(r.ledger.slashedWei)}`,
    );
  } else {
    lines.push(`  ledger             unavailable: ${r.ledgerError}`);
  }
  if (r.escrow) lines.push(...describeBalances(r.escrow));
  else lines.push('  escrow balances    give --rpc-url to read them from the chain');
  return lines;
}

export function describeBalances(b: OperatorBalances): string[] {
  const lines = [
    `  withdrawable       ${eth(b.withdrawableWei)}`,
    `  staked             ${eth(b.stakeWei)}`,
  ];
  if (b.pendingUnstakeWei > 0n) {
    const ready = new Date(Number(b.unstakeReadyAt) * 1000).toISOString();
    lines.push(`  unstaking          ${eth(b.pendingUnstakeWei)} (ready ${ready})`);
  }
  return lines;
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
