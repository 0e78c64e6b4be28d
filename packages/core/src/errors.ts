/**
 * Every stable error code meshless throws or emits. Users match on `err.code`; the list is
 * kept in sync with docs/errors.md by a test, both ways.
 *
 * @example
 * ```ts
 * const known = new Set<string>(MESHLESS_ERROR_CODES);
 * if (known.has((err as { code?: string }).code ?? '')) metrics.increment('meshless_errors', { code: err.code });
 * ```
 */
export const MESHLESS_ERROR_CODES = [
  'ERR_MESHLESS_SPIFFE_ID_INVALID',
  'ERR_MESHLESS_TRUST_DOMAIN_INVALID',
  'ERR_MESHLESS_INPUT_TOO_LARGE',
  'ERR_MESHLESS_PEM_INVALID',
  'ERR_MESHLESS_KEY_INVALID',
  'ERR_MESHLESS_KEY_ENCRYPTED',
  'ERR_MESHLESS_KEY_DECRYPT_FAILED',
  'ERR_MESHLESS_KEY_MISMATCH',
  'ERR_MESHLESS_KEY_WEAK',
  'ERR_MESHLESS_SIGNATURE_WEAK',
  'ERR_MESHLESS_CERT_EXPIRED',
  'ERR_MESHLESS_CERT_NOT_YET_VALID',
  'ERR_MESHLESS_CHAIN_UNTRUSTED',
  'ERR_MESHLESS_BUNDLE_INVALID',
  'ERR_MESHLESS_SVID_INVALID',
  'ERR_MESHLESS_LEAF_INVALID',
  'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH',
  'ERR_MESHLESS_TTL_INVALID',
  'ERR_MESHLESS_CSR_INVALID',
  'ERR_MESHLESS_CA_INVALID',
  'ERR_MESHLESS_FILE_UNREADABLE',
  'ERR_MESHLESS_STARTUP_TIMEOUT',
  'ERR_MESHLESS_WATCH_FAILED',
  'ERR_MESHLESS_SERVER_UNAUTHORIZED',
  'ERR_MESHLESS_SERVER_CERT_UNTRUSTED',
  'ERR_MESHLESS_SERVER_NAME_MISMATCH',
  'ERR_MESHLESS_CLIENT_CERT_REJECTED',
  'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN',
  'ERR_MESHLESS_TLS_HANDSHAKE_FAILED',
  'ERR_MESHLESS_PLAINTEXT_REFUSED',
  'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
  'ERR_MESHLESS_USAGE',
  'ERR_MESHLESS_CONNECT_FAILED',
  'ERR_MESHLESS_LAYOUT_UNKNOWN',
  'ERR_MESHLESS_KEY_PERMISSIONS',
  'ERR_MESHLESS_CERT_EXPIRING',
  'ERR_MESHLESS_DEMO_NOT_FOUND',
  'ERR_MESHLESS_SVID_WITHDRAWN',
  'ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID',
  'ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE',
  'ERR_MESHLESS_WORKLOAD_API_REFUSED',
  'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED',
  'ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID',
  'ERR_MESHLESS_INVALID_OPTION',
  'ERR_MESHLESS_ORIGIN_NOT_CONFIGURED',
  'ERR_MESHLESS_JWT_SVID_INVALID',
  'ERR_MESHLESS_JWT_BUNDLE_INVALID',
] as const;

/** The union of every meshless error code. */
export type MeshlessErrorCode = (typeof MESHLESS_ERROR_CODES)[number];

/** Where an error came from and what it was about; every field is optional. */
export interface MeshlessErrorContext {
  /** Which input was at fault: `cert`, `key`, `ca`, or an option name. */
  input?: string;
  /** The file the input was read from, when there was one. */
  file?: string;
  /** The SPIFFE ID involved, in canonical form. */
  spiffeId?: string;
  /** The SHA-256 fingerprint of the certificate involved. */
  fingerprint?: string;
  /** The subject of the certificate involved. */
  subject?: string;
  /** The rule that was broken, for errors that have several (SPIFFE ID syntax, X509-SVID profile). */
  rule?: string;
  /** What was expected and what was found, for comparisons. */
  expected?: string;
  actual?: string;
  [key: string]: unknown;
}

const BRAND = Symbol.for('meshless.MeshlessError');

/**
 * The one error class of meshless. Its identity survives two copies of the package (it is
 * branded with `Symbol.for`), so `instanceof` and {@link isMeshlessError} work across copies.
 *
 * @example
 * ```ts
 * try {
 *   loadMaterial({ cert, key, ca });
 * } catch (err) {
 *   if (isMeshlessError(err, 'ERR_MESHLESS_CERT_EXPIRED')) console.error(err.context.subject, 'has expired');
 *   else throw err;
 * }
 * ```
 */
export class MeshlessError extends Error {
  override name = 'MeshlessError';
  readonly code: MeshlessErrorCode;
  readonly context: Readonly<MeshlessErrorContext>;

  constructor(code: MeshlessErrorCode, message: string, context: MeshlessErrorContext = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.context = Object.freeze({ ...context });
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * Tells whether `value` is a {@link MeshlessError}, optionally with a given code, even when it
 * was thrown by another copy of this package.
 *
 * @example
 * ```ts
 * source.on('error', (err) => {
 *   if (isMeshlessError(err, 'ERR_MESHLESS_KEY_MISMATCH')) log.warn('key not written yet, retrying');
 * });
 * ```
 */
export function isMeshlessError(value: unknown, code?: MeshlessErrorCode): value is MeshlessError {
  return value instanceof MeshlessError && (code === undefined || value.code === code);
}
