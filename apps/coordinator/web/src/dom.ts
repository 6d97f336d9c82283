/** A tiny element builder: h('td', { class: 'x' }, 'text', child). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined | null> = {},
  ...children: (Node | string | number | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString() : '–';
}

export function short(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '–';
}

/** An amount in wei, for reading: ETH from 0.001 ETH up, gwei below, wei below one gwei. */
export function wei(amount: string | null | undefined): string {
  if (amount === null || amount === undefined) return '–';
  const v = BigInt(amount);
  if (v >= 10n ** 15n) return `${decimals(v, 18, 4)} ETH`;
  if (v >= 10n ** 9n) return `${decimals(v, 9, 3)} gwei`;
  return `${v} wei`;
}

/** `v / 10^scale` with at most `digits` decimals (rounded down, no trailing zeros). */
function decimals(v: bigint, scale: number, digits: number): string {
  const unit = 10n ** BigInt(scale);
  const frac = ((v % unit) / 10n ** BigInt(scale - digits))
    .toString()
    .padStart(digits, '0')
    .replace(/0+$/, '');
  return frac ? `${v / unit}.${frac}` : `${v / unit}`;
}
