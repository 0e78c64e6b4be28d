import type { Output } from '../io.js';

/**
 * Writes one JSON document (and a newline) for `--json`: dates as ISO 8601 strings, byte arrays
 * left out, two-space indentation so it is readable and `jq`-friendly.
 *
 * @example
 * ```ts
 * writeJson(io.stdout, { ok: true, notAfter: new Date() });
 * ```
 */
export function writeJson(out: Output, value: unknown): void {
  out.write(`${JSON.stringify(value, replacer, 2)}\n`);
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return undefined;
  return value;
}
