// The escrow transactions that settle one job, as a pure function of what the database says was
// accepted. Every id in it is derived from the job (batch ids count from 1, slash ids hash the job
// and the operator), so planning twice yields the same calls and the contract refuses repeats.
import { getAddress, solidityPackedKeccak256 } from 'ethers';
import { AcceptedRender, batches, earnings } from '../pricing/pricing';

export interface SettleArgs {
  batchId: string;
  payees: string[];
  /** wei, decimal strings */
  amounts: string[];
}

export interface SlashArgs {
  operator: string;
  amount: string;
  slashId: string;
}

export type PlannedTx =
  | { seq: number; kind: 'SETTLE'; args: SettleArgs }
  | { seq: number; kind: 'SLASH'; args: SlashArgs }
  | { seq: number; kind: 'CLOSE'; args: Record<string, never> };

export interface SettlementInput {
  /** the job's id on the escrow (bytes32) */
  jobKey: string;
  priceWei: bigint;
  /** what the escrow holds for the job */
  fundedWei: bigint;
  /** verified renders of nodes that were not convicted on the job */
  renders: readonly AcceptedRender[];
  /** addresses of operators convicted of fraud on the job */
  convicted: readonly string[];
  slashWei: bigint;
  batchSize: number;
}

export interface SettlementPlan {
  txs: PlannedTx[];
  /** payee -> wei accrued on the job */
  accrued: Map<string, bigint>;
  /** the accepted work was worth more than the deposit and was scaled down to fit */
  scaled: boolean;
}

/** The slash id of an operator on a job: one slash per conviction, whoever plans it. */
export function slashIdOf(jobKey: string, operator: string): string {
  return solidityPackedKeccak256(
    ['bytes32', 'address'],
    [jobKey, getAddress(operator.toLowerCase())],
  );
}

/** Settle batches (payees with something to receive), then slashes, then the close/refund. */
export function planSettlement(input: SettlementInput): SettlementPlan {
  const convicted = new Set(input.convicted.map((a) => a.toLowerCase()));
  const paid = input.renders.filter((r) => !convicted.has(r.payee.toLowerCase()));
  const { amounts, scaled } = earnings(paid, input.priceWei, input.fundedWei);
  const entries = [...amounts].filter(([, wei]) => wei > 0n);
  const txs: PlannedTx[] = [];
  for (const batch of batches(entries, input.batchSize)) {
    txs.push({
      seq: txs.length + 1,
      kind: 'SETTLE',
      args: {
        batchId: String(txs.length + 1),
        payees: batch.map(([payee]) => payee),
        amounts: batch.map(([, wei]) => wei.toString()),
      },
    });
  }
  if (input.slashWei > 0n) {
    for (const operator of new Set(input.convicted.map((a) => getAddress(a.toLowerCase())))) {
      txs.push({
        seq: txs.length + 1,
        kind: 'SLASH',
        args: {
          operator,
          amount: input.slashWei.toString(),
          slashId: slashIdOf(input.jobKey, operator),
        },
      });
    }
  }
  txs.push({ seq: txs.length + 1, kind: 'CLOSE', args: {} });
  return { txs, accrued: new Map(entries), scaled };
}
