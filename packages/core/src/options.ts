import { MeshlessError } from './errors.js';

/**
 * Describes a value for an option error: its type and, for short ones, the value itself, so that a
 * message says what was passed (`the string "spiffe://..."`, `the number 3`, `an object`).
 *
 * @example
 * ```ts
 * describeValue('spiffe://example.org/web'); // 'the string "spiffe://example.org/web"'
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `the ${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  return 'an object';
}

/**
 * The error for an option that has the wrong type or value: `ERR_MESHLESS_INVALID_OPTION`, with a
 * message that names the function, the option, what was expected and what was passed.
 *
 * @example
 * ```ts
 * if (typeof options.authorize !== 'function') {
 *   throw invalidOption('createServer', 'authorize', options.authorize, "an authorizer function (e.g. authorize.id('spiffe://...'))");
 * }
 * ```
 */
export function invalidOption(where: string, key: string, got: unknown, expected: string): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_INVALID_OPTION',
    `${where}: ${key} must be ${expected}; got ${describeValue(got)}`,
    { input: key, expected, actual: describeValue(got) },
  );
}

/**
 * The error for an option that is understood but refused (it would bypass or weaken meshless's
 * trust decisions, or meshless manages it): `ERR_MESHLESS_INVALID_OPTION` with the reason.
 *
 * @example
 * ```ts
 * if ('rejectUnauthorized' in options) throw refusedOption('createAgent', 'rejectUnauthorized', 'meshless always verifies the server');
 * ```
 */
export function refusedOption(where: string, key: string, why: string): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_INVALID_OPTION',
    `${where}: option "${key}" is not accepted: ${why}`,
    {
      input: key,
      rule: 'refused',
    },
  );
}

/**
 * Throws `ERR_MESHLESS_INVALID_OPTION` unless `options` is a plain object (or `undefined` when
 * `optional`), so that every later check can read its keys.
 *
 * @example
 * ```ts
 * assertOptionsObject('createAgent', options);
 * ```
 */
export function assertOptionsObject(where: string, options: unknown, optional = false): void {
  if (optional && options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(where, 'options', options, 'an object');
  }
}

/**
 * Throws `ERR_MESHLESS_INVALID_OPTION` for the first key of `options` that is not in `known`, with a
 * suggestion when the key looks like a misspelling of a known one. A typo must never loosen a
 * policy by being ignored.
 *
 * @example
 * ```ts
 * assertKnownOptions('createServer', { closeDenyed: true }, ['closeDenied']);
 * // throws: createServer: unknown option "closeDenyed"; did you mean "closeDenied"?
 * ```
 */
export function assertKnownOptions(where: string, options: object, known: Iterable<string>): void {
  const knownKeys = known instanceof Set ? (known as Set<string>) : new Set(known);
  for (const key of Object.keys(options)) {
    if (knownKeys.has(key)) continue;
    const suggestion = closestKey(key, knownKeys);
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${where}: unknown option ${JSON.stringify(key)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`,
      { input: key, rule: 'unknown', ...(suggestion ? { expected: suggestion } : {}) },
    );
  }
}

// The known key closest to `key` when close enough to be a typo (same letters in another case, or
// at most two edits for longer keys, one for short ones).
function closestKey(key: string, known: Set<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}

/**
 * An `ERR_MESHLESS_INVALID_OPTION` error with a message written by the caller, for option checks
 * whose message does not fit {@link invalidOption}'s "must be ...; got ..." shape.
 *
 * @example
 * ```ts
 * if (caDir !== undefined && ca !== undefined) throw optionError('watchCertificateFiles: give caDir or ca, not both', 'caDir');
 * ```
 */
export function optionError(message: string, input?: string): MeshlessError {
  return new MeshlessError('ERR_MESHLESS_INVALID_OPTION', message, input ? { input } : {});
}
