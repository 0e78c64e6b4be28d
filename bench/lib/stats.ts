// Summaries over the repeated rounds of a scenario: the median is the figure reported, the range
// (min to max) says how much the shared machine moved it.

/** The median, min and max of the rounds' values. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[n - 1] as number, n };
}

/** Rounds to `digits` significant decimals for tables. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `median (min–max)` for a table cell. */
export function cell(s: Spread, digits = 1): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  if (s.n < 2) return `${round(s.median, digits)}`;
  return `${round(s.median, digits)} (${round(s.min, digits)}–${round(s.max, digits)})`;
}

/** The ratio of two medians, as `1.03x`. */
export function ratio(candidate: number, baseline: number): number {
  return baseline > 0 ? candidate / baseline : Number.NaN;
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a';
}

/**
 * The ratio of two configurations measured in the same rounds, round by round: rounds pair the
 * two runs made next to each other, so the machine's drift between rounds cancels out.
 *
 * @example
 * perRoundRatios([2, 3], [1, 2]); // [2, 1.5]
 */
export function perRoundRatios(candidate: readonly number[], baseline: readonly number[]): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(candidate.length, baseline.length); i++) {
    ratios.push(ratio(candidate[i] as number, baseline[i] as number));
  }
  return ratios;
}

/** The spread of the {@link perRoundRatios} of two configurations. */
export function pairedRatio(candidate: readonly number[], baseline: readonly number[]): Spread {
  return spread(perRoundRatios(candidate, baseline));
}

/**
 * {@link pairedRatio} over some of the rounds only (their indices), for splitting a comparison by a
 * condition of each round: the order the two were measured in, a pause in one of the windows.
 */
export function pairedRatioOver(
  candidate: readonly number[],
  baseline: readonly number[],
  rounds: readonly number[],
): Spread {
  return pairedRatio(
    rounds.map((i) => candidate[i] as number),
    rounds.map((i) => baseline[i] as number),
  );
}

/** `1.03x (0.95–1.10), 4`: the median ratio, its range, and how many rounds it is over; `–` for none. */
export function formatRatioOver(s: Spread): string {
  if (s.n === 0) return '–';
  const range = s.n > 1 ? ` (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : '';
  return `${formatRatio(s.median)}${range}, ${s.n}`;
}

/** Appends `value` to the list under `key`, creating it. */
export function append<T>(lists: Record<string, T[]>, key: string, value: T): void {
  const list = lists[key];
  if (list) list.push(value);
  else lists[key] = [value];
}

/**
 * A distribution-free 95% confidence interval for the median of `values` (order statistics of the
 * sign test): with n values, the k-th smallest and k-th largest, for the largest k whose binomial
 * tail P(X < k) stays within 2.5%. Needs at least 6 values; fewer give an interval of NaN.
 *
 * @example
 * medianInterval([0.9, 1.1, 0.95, 1.02, 0.99, 1.05, 1.0, 0.97]); // { low: 0.9, high: 1.1 }
 */
export function medianInterval(values: readonly number[]): { low: number; high: number } {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  // P(X <= j) for X ~ Binomial(n, 1/2), accumulated until it would exceed 2.5%.
  let k = 0;
  let tail = 0;
  let term = 0.5 ** n;
  for (let j = 0; j < n; j++) {
    if (tail + term > 0.025) break;
    tail += term;
    k = j + 1;
    term = (term * (n - j)) / (j + 1);
  }
  if (k === 0) return { low: Number.NaN, high: Number.NaN };
  return { low: sorted[k - 1] as number, high: sorted[n - k] as number };
}
