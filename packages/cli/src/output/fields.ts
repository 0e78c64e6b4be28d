/** One `key: value` line; a value of `undefined` leaves the line out. */
export type Field = readonly [label: string, value: string | undefined];

/**
 * Formats `label: value` lines with the values aligned in one column, the way `kubectl describe`
 * and `openssl x509 -text` readers expect to scan them. Multi-line values are indented under
 * their first line.
 *
 * @example
 * ```ts
 * fields([['subject', 'CN=web'], ['spiffe id', 'spiffe://example.org/web']], '  ');
 * // '  subject:   CN=web\n  spiffe id: spiffe://example.org/web\n'
 * ```
 */
export function fields(rows: readonly Field[], indent = ''): string {
  const present = rows.filter((row): row is readonly [string, string] => row[1] !== undefined);
  const width = Math.max(0, ...present.map(([label]) => label.length + 1));
  return present
    .map(([label, value]) => {
      const head = `${indent}${`${label}:`.padEnd(width)} `;
      const continuation = ' '.repeat(head.length);
      return `${head}${value.split('\n').join(`\n${continuation}`)}\n`;
    })
    .join('');
}
