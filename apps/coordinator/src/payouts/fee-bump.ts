// Replacement by fee, as pure maths. A node keeps one transaction per sender and nonce and takes
// another with that nonce only if it raises both the fee cap and the tip by at least 10% (geth's
// default price bump; hardhat asks the same). 12.5% clears that with rounding to spare, and is
// also the most the base fee can rise from one block to the next.

/** The EIP-1559 fees of a transaction, in wei per gas. */
export interface GasFees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** What a replacement would need, when the cap does not allow it. */
export interface CappedBump {
  /** the least fee cap a node would take as a replacement */
  needed: bigint;
  cap: bigint;
}

export type Replacement = { fees: GasFees } | { capped: CappedBump };

/**
 * The fees of a signed transaction or of a provider's fee data. A legacy gas price (a chain or
 * a transaction without EIP-1559 fees) is both the cap and the tip.
 */
export function gasFeesOf(x: {
  maxFeePerGas?: bigint | null;
  maxPriorityFeePerGas?: bigint | null;
  gasPrice?: bigint | null;
}): GasFees {
  const maxFeePerGas = x.maxFeePerGas ?? x.gasPrice;
  if (maxFeePerGas == null) throw new Error('no fee: neither maxFeePerGas nor gasPrice');
  const tip = x.maxPriorityFeePerGas ?? x.gasPrice ?? 0n;
  return { maxFeePerGas, maxPriorityFeePerGas: min(tip, maxFeePerGas) };
}

/** `wei` raised by 12.5%, rounded up, and by at least 1 wei (a zero tip must still move). */
export function bumped(wei: bigint): bigint {
  return max(wei + 1n, (wei * 9n + 7n) / 8n);
}

/** The fees of a first signature: the chain's current fees, within the cap. */
export function firstFees(current: GasFees, cap: bigint | null): GasFees {
  const maxFeePerGas = cap === null ? current.maxFeePerGas : min(current.maxFeePerGas, cap);
  return { maxFeePerGas, maxPriorityFeePerGas: min(current.maxPriorityFeePerGas, maxFeePerGas) };
}

/**
 * The fees of a replacement for a transaction signed with `previous` that was not mined: the
 * chain's current fees, or the previous ones raised by 12.5%, whichever is higher, for the cap
 * and the tip alike. Above the cap it is clamped to the cap, as long as that still raises the
 * previous fees enough for a node to take it; otherwise it is `capped`: the transaction already
 * sent is the best allowed, and it waits for the chain's fees to fall (or the cap to rise).
 */
export function replacementFees(
  previous: GasFees,
  current: GasFees,
  cap: bigint | null,
): Replacement {
  const leastFee = bumped(previous.maxFeePerGas);
  const leastTip = bumped(previous.maxPriorityFeePerGas);
  const tip = max(current.maxPriorityFeePerGas, leastTip);
  const fee = max(current.maxFeePerGas, leastFee, tip);
  if (cap === null) return { fees: { maxFeePerGas: fee, maxPriorityFeePerGas: tip } };
  if (leastFee > cap || leastTip > cap) return { capped: { needed: max(leastFee, leastTip), cap } };
  const cappedFee = min(fee, cap);
  return { fees: { maxFeePerGas: cappedFee, maxPriorityFeePerGas: min(tip, cappedFee) } };
}

function max(...values: bigint[]): bigint {
  return values.reduce((a, b) => (b > a ? b : a));
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
