/**
 * `1 certificate`, `2 certificates`: a count with its noun in the right number.
 *
 * @example
 * ```ts
 * plural(2, 'check'); // '2 checks'
 * ```
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
