const UNITS: readonly (readonly [suffix: string, ms: number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/**
 * A duration the way people read it in a terminal: the two largest units, rounded down, so an
 * expiry is never overstated: `3h12m`, `29d23h`, `4m5s`, `45s`. Under a second, milliseconds.
 *
 * @example
 * ```ts
 * formatDuration(11_520_000); // '3h12m'
 * formatDuration(90_061_000); // '1d1h'
 * formatDuration(250);        // '250ms'
 * ```
 */
export function formatDuration(ms: number): string {
  const total = Math.abs(ms);
  if (total < 1_000) return `${Math.floor(total)}ms`;
  const parts: string[] = [];
  let rest = total;
  for (const [suffix, size] of UNITS) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0) parts.push(`${amount}${suffix}`);
    if (parts.length === 2) break;
  }
  // '3h0m' reads worse than '3h'.
  return parts.filter((part, index) => index === 0 || !part.startsWith('0')).join('');
}

/**
 * Where `now` stands in a certificate's validity window, in words: `expires in 3h12m`,
 * `expired 2d4h ago` or `not valid for another 5m`.
 *
 * @example
 * ```ts
 * expiryPhrase(cert.notBefore, cert.notAfter); // 'expires in 23h59m'
 * ```
 */
export function expiryPhrase(notBefore: Date, notAfter: Date, now: Date = new Date()): string {
  if (now.getTime() < notBefore.getTime())
    return `not valid for another ${formatDuration(notBefore.getTime() - now.getTime())}`;
  const left = notAfter.getTime() - now.getTime();
  return left >= 0 ? `expires in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`;
}
