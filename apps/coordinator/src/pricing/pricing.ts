// What rendering costs, in wei. Pure functions: the quote, the deposit a job needs before it is
// dispatched, and what each node has earned on a job are all computed here.
//
// A work unit is one megapixel rendered at 100 samples. Pixels x samples is what a path tracer's
// time grows with, so a unit is fair across tile sizes and sample counts; what it cannot see is
// how heavy a scene is per sample, which the requester prices in with the per-unit price it posts.
// Every rendered pixel counts, overlap margins and verification renders included: checks are
// leased like any work (nodes cannot tell them apart), so they are paid like any work.
import { policyFor, PolicyStrength, TileGeometry, verificationCost } from '@tessera/verification';

/** Samples per pixel a job renders with: its override, else the scene's own (1 if unknown). */
export function samplesOf(job: { settings: unknown; sceneInfo: unknown }): number {
  const settings = job.settings as { samples?: number | null } | null;
  const scene = job.sceneInfo as { samples?: number | null } | null;
  return settings?.samples ?? scene?.samples ?? 1;
}

/** Pixel-samples in one work unit: 1 MP x 100 samples. */
export const PIXEL_SAMPLES_PER_UNIT = 100_000_000n;

export type VerificationStrength = PolicyStrength | 'off';

/** Work units of a region rendered at `samples` (fractional: for display and quotes). */
export function workUnits(width: number, height: number, samples: number): number {
  return (width * height * samples) / Number(PIXEL_SAMPLES_PER_UNIT);
}

/** Integer pixel-samples of a region: the exact quantity payments are computed from. */
export function pixelSamples(width: number, height: number, samples: number): bigint {
  for (const [name, v] of Object.entries({ width, height, samples })) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a whole number`);
  }
  return BigInt(width) * BigInt(height) * BigInt(samples);
}

/** The price of `amount` pixel-samples at `priceWei` per unit, rounded down to the wei. */
export function priceOf(amount: bigint, priceWei: bigint): bigint {
  if (amount < 0n || priceWei < 0n) throw new RangeError('amount and price must not be negative');
  return (amount * priceWei) / PIXEL_SAMPLES_PER_UNIT;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

export interface QuoteInput {
  /** the job's WORK shards (region with margins; margins as planned) */
  tiles: readonly TileGeometry[];
  samples: number;
  priceWei: bigint;
  verification: VerificationStrength;
}

export interface Quote {
  /** work units of the job's tiles, margins included */
  workUnits: number;
  /** what the tiles cost at the job's price */
  workWei: bigint;
  /** the most verification renders are expected to cost: checks priced for a brand-new node */
  verificationWei: bigint;
  /** verification share of the work, as a fraction */
  verificationRatio: number;
  /** the deposit that lets the job start: work plus the verification allowance */
  depositWei: bigint;
}

/**
 * The quote a requester sees before funding. Verification is priced as if every tile went to a
 * brand-new node (the highest check rate), so the deposit covers it whoever renders; what is not
 * spent is refunded when the job closes.
 */
export function quoteJob(input: QuoteInput): Quote {
  if (input.tiles.length === 0) throw new RangeError('a quote needs at least one tile');
  let amount = 0n;
  for (const { region } of input.tiles) {
    amount += pixelSamples(region.width, region.height, input.samples);
  }
  const workWei = priceOf(amount, input.priceWei);
  let ratio = 0;
  if (input.verification !== 'off') {
    ratio = verificationCost(policyFor(input.verification), 0, input.tiles).verificationRatio;
  }
  // Parts per million keep the maths in integers; rounding up keeps the deposit sufficient.
  const ppm = BigInt(Math.ceil(ratio * 1_000_000));
  const verificationWei = ceilDiv(workWei * ppm, 1_000_000n);
  return {
    workUnits: Number(amount) / Number(PIXEL_SAMPLES_PER_UNIT),
    workWei,
    verificationWei,
    verificationRatio: ratio,
    depositWei: workWei + verificationWei,
  };
}

/** One accepted render: who rendered it and how much. */
export interface AcceptedRender {
  payee: string;
  width: number;
  height: number;
  samples: number;
}

export interface Earnings {
  /** payee address -> wei, in first-seen order */
  amounts: Map<string, bigint>;
  total: bigint;
  /** true when the accepted work was worth more than the budget and every amount was scaled */
  scaled: boolean;
}

/**
 * What each node has earned on a job. Amounts are priced per node total (one rounding per node,
 * not per tile). When checks beyond the allowance push the total above the budget, every node is
 * scaled down by the same factor so that the settlement still fits in the escrowed budget.
 */
export function earnings(renders: readonly AcceptedRender[], priceWei: bigint, budgetWei: bigint) {
  const work = new Map<string, bigint>();
  for (const r of renders) {
    work.set(r.payee, (work.get(r.payee) ?? 0n) + pixelSamples(r.width, r.height, r.samples));
  }
  const amounts = new Map<string, bigint>();
  let total = 0n;
  for (const [payee, amount] of work) {
    const wei = priceOf(amount, priceWei);
    amounts.set(payee, wei);
    total += wei;
  }
  if (total <= budgetWei) return { amounts, total, scaled: false } satisfies Earnings;
  const scaledAmounts = new Map<string, bigint>();
  let scaledTotal = 0n;
  for (const [payee, wei] of amounts) {
    const share = (wei * budgetWei) / total;
    scaledAmounts.set(payee, share);
    scaledTotal += share;
  }
  return { amounts: scaledAmounts, total: scaledTotal, scaled: true } satisfies Earnings;
}

/** Splits settlement entries into batches of at most `size` payees (one transaction each). */
export function batches<T>(entries: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('batch size must be >= 1');
  const out: T[][] = [];
  for (let i = 0; i < entries.length; i += size) out.push(entries.slice(i, i + size));
  return out;
}

export class PricingError extends Error {}

export interface TermsInput extends Omit<QuoteInput, 'priceWei'> {
  /** whether the coordinator settles through an escrow (else nothing is charged) */
  escrow: boolean;
  defaultPriceWei: bigint;
  budgetWei?: string;
  maxPriceWei?: string;
}

export interface PaymentTerms {
  payment: 'NONE' | 'AWAITING_FUNDS';
  priceWei: bigint;
  /** what the escrow must hold for the job before its tiles are leased */
  depositWei: bigint;
  quote: Quote;
}

/**
 * A planned job's price and required deposit. The deposit is the requester's budget cap when
 * given, else the quote; a budget that cannot even pay for the tiles is refused at submission.
 */
export function paymentTerms(input: TermsInput): PaymentTerms {
  const priceWei =
    input.maxPriceWei !== undefined ? BigInt(input.maxPriceWei) : input.defaultPriceWei;
  const quote = quoteJob({ ...input, priceWei });
  let depositWei = quote.depositWei;
  if (input.budgetWei !== undefined) {
    const budget = BigInt(input.budgetWei);
    if (budget < quote.workWei) {
      throw new PricingError(
        `budgetWei ${budget} is below the cost of the tiles alone (${quote.workWei} wei for ` +
          `${quote.workUnits.toFixed(4)} work units at ${priceWei} wei per unit)`,
      );
    }
    depositWei = budget;
  }
  return { payment: input.escrow ? 'AWAITING_FUNDS' : 'NONE', priceWei, depositWei, quote };
}
