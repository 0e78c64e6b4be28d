// Label values come from diagnostics channel messages, which any copy of meshless (or anything else)
// may publish. Each value is mapped onto a closed set, so a malformed or hostile message can never
// create a new time series.

/**
 * How a connection or request is secured: `mtls` (verified client certificate), `tls` (no client
 * certificate) or `plaintext`.
 *
 * @example
 * ```ts
 * const label: SecurityLabel = 'mtls';
 * ```
 */
export type SecurityLabel = 'mtls' | 'tls' | 'plaintext';

/**
 * The closed sets of label values; anything outside them becomes `other`.
 *
 * @example
 * ```ts
 * bounded('unknown_ca', LABEL_VALUES.handshakeReason); // 'unknown_ca'
 * ```
 */
export const LABEL_VALUES = Object.freeze({
  security: ['mtls', 'tls', 'plaintext'] as const,
  requestDecision: ['allow', 'deny', 'audit_deny', 'none'] as const,
  authorizationDecision: ['allow', 'deny', 'audit_deny'] as const,
  handshakeReason: [
    'no_certificate',
    'unknown_ca',
    'expired',
    'bad_certificate',
    'timeout',
    'protocol',
  ] as const,
  rotationResult: ['applied', 'rejected'] as const,
  expiryState: ['expiring', 'expired'] as const,
  expiryRole: ['leaf', 'root'] as const,
  layer: ['server', 'express', 'fastify'] as const,
  credential: ['x509-svid', 'jwt-svid'] as const,
});

/**
 * The value itself when it is one of `allowed`, else `other`.
 *
 * @example
 * ```ts
 * bounded('quantum', LABEL_VALUES.security); // 'other'
 * ```
 */
export function bounded(value: unknown, allowed: readonly string[]): string {
  return typeof value === 'string' && allowed.includes(value) ? value : 'other';
}

/**
 * A free-text value (such as a source name, set in configuration) cut to a sane length.
 *
 * @example
 * ```ts
 * clipped('/var/run/secrets/tls'); // '/var/run/secrets/tls'
 * ```
 */
export function clipped(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : '';
  return text.length > max ? text.slice(0, max) : text;
}
