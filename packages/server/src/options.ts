import {
  type ApplicationTlsOptions,
  type Authorizer,
  applicationTlsOptions,
  assertKnownOptions,
  assertOptionsObject,
  type CertificateSource,
  invalidOption,
  refusedOption,
  SERVER_TLS_OPTION_KEYS,
} from '@meshless/core';
import type { HandshakeFailureEvent } from './handshake-failure-event.js';

/** How a meshless server treats clients. */
export type ServerMode = 'strict' | 'permissive';

/**
 * The meshless part of a server's options, with the TLS options of the application that meshless
 * carries into every secure context it builds (`crl`, `secureOptions`, `ciphers`, `minVersion`, ...;
 * see `SERVER_TLS_OPTION_KEYS`); the rest are node:https / node:http2 options.
 */
export interface MeshlessServerOptions extends ApplicationTlsOptions {
  /** Where the server's certificate, key and trust bundle come from; rotation follows its `update` events. */
  source: CertificateSource;
  /**
   * Decides which verified peers may make requests. Required: pass `authorize.any()` to accept every
   * peer the trust bundle vouches for, on purpose.
   */
  authorize: Authorizer;
  /**
   * `strict` (default): every client must present a certificate that verifies against the source's
   * bundle, or the handshake fails.
   * `permissive`: for a gradual rollout, like Istio's PERMISSIVE. The same port also serves plaintext
   * HTTP and TLS clients without a certificate (`securityOf()` says `plaintext` or `tls`; `peerOf()`
   * is undefined for them, and the server-level authorizer does not apply, so route middleware
   * decides). A certificate that is presented must still verify: it is never downgraded.
   */
  mode?: ServerMode;
  /**
   * Close the connection of a verified peer that the authorizer denies, right after the handshake,
   * instead of answering 403 to each of its requests. Default false.
   */
  closeDenied?: boolean;
  /**
   * When the trust bundle changes, close connections whose peer chains to a root that is no longer
   * trusted: idle ones at once, busy HTTP/1.1 ones after the response in flight, HTTP/2 sessions
   * gracefully. Default true.
   */
  closeOnTrustChange?: boolean;
  /**
   * 48 bytes of TLS session ticket keys. Default: generated per server. Kept across rotations so
   * clients keep resuming. Sessions resume only on the server that made them (the session id context
   * binds each session to the server, its mode and its trust bundle, so that every resumption is
   * checked against the verdict of its full handshake), so sharing keys between processes does not
   * make sessions resume across them.
   */
  ticketKeys?: Buffer;
  /**
   * Milliseconds a client may take to complete the TLS handshake (and, in permissive mode, to send
   * its first bytes). Default 10 000.
   */
  handshakeTimeout?: number;
  /**
   * Called for every TLS handshake this server refuses (no certificate, a foreign CA, an expired or
   * otherwise bad certificate, a timeout, a protocol error), with the client's address and the
   * reason; the same event the `meshless:handshake-failure` channel carries. Opt-in: nothing is
   * logged by default. It runs on the connection path, so it must not throw; `formatRefusal(event)`
   * makes the one-line log entry.
   *
   * @example
   * ```ts
   * createServer({ source, authorize, onRefusal: (event) => logger.warn(formatRefusal(event)) }, app);
   * ```
   */
  onRefusal?: (event: HandshakeFailureEvent) => void;
}

const MODES: readonly ServerMode[] = ['strict', 'permissive'];

/**
 * The keys of {@link MeshlessServerOptions} itself (not the TLS options it carries).
 *
 * @example
 * ```ts
 * MESHLESS_SERVER_KEYS.includes('closeDenied'); // true
 * ```
 */
export const MESHLESS_SERVER_KEYS = [
  'source',
  'authorize',
  'mode',
  'closeDenied',
  'closeOnTrustChange',
  'ticketKeys',
  'handshakeTimeout',
  'onRefusal',
] as const;

// Set by meshless from the source and the mode; never taken from the application.
const MANAGED_KEYS: Readonly<Record<string, string>> = {
  rejectUnauthorized: 'meshless verifies every client certificate; use mode to choose strict or permissive',
  requestCert: 'meshless always requests a client certificate; use mode to choose strict or permissive',
  cert: 'the certificate comes from options.source',
  key: 'the private key comes from options.source',
  ca: 'the trust bundle comes from options.source',
};

/**
 * Checks the options of a meshless server and throws `ERR_MESHLESS_INVALID_OPTION` for the first
 * problem: a missing source or authorizer, a bad value, an option meshless manages or that would
 * bypass its trust, a TLS option weaker than the defaults, or an unknown key (neither meshless's,
 * nor a TLS option meshless carries, nor one of `nodeKeys`).
 *
 * @example
 * ```ts
 * validateServerOptions({ source, authorize: authorize.any(), closeDenyed: true }, 'createServer');
 * // throws: createServer: unknown option "closeDenyed"; did you mean "closeDenied"?
 * ```
 */
export function validateServerOptions(
  options: MeshlessServerOptions,
  where = 'meshless server',
  nodeKeys: readonly string[] = [],
): void {
  assertOptionsObject(where, options);
  const { source, authorize, mode, ticketKeys, handshakeTimeout, onRefusal } = options;
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw invalidOption(
      where,
      'source',
      source,
      'a CertificateSource (for example from watchCertificateFiles)',
    );
  }
  if (typeof authorize !== 'function') {
    throw invalidOption(
      where,
      'authorize',
      authorize,
      "an authorizer function (e.g. authorize.id('spiffe://...'), or authorize.any() to accept every verified peer)",
    );
  }
  if (mode !== undefined && !MODES.includes(mode)) {
    throw invalidOption(where, 'mode', mode, `one of ${MODES.map((m) => `'${m}'`).join(', ')}`);
  }
  if (onRefusal !== undefined && typeof onRefusal !== 'function') {
    throw invalidOption(where, 'onRefusal', onRefusal, 'a function taking the handshake failure event');
  }
  if (ticketKeys !== undefined && (!Buffer.isBuffer(ticketKeys) || ticketKeys.length !== 48)) {
    throw invalidOption(where, 'ticketKeys', ticketKeys, 'a 48-byte Buffer');
  }
  if (handshakeTimeout !== undefined && !(Number.isFinite(handshakeTimeout) && handshakeTimeout > 0)) {
    throw invalidOption(where, 'handshakeTimeout', handshakeTimeout, 'a positive number of milliseconds');
  }
  for (const key of ['closeDenied', 'closeOnTrustChange'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw invalidOption(where, key, options[key], 'a boolean');
    }
  }
  for (const [key, why] of Object.entries(MANAGED_KEYS)) {
    if (key in options) throw refusedOption(where, key, why);
  }
  // Refuses what bypasses trust or weakens TLS; the checked copy is taken by applicationTlsOf.
  applicationTlsOptions(where, options as unknown as Record<string, unknown>);
  assertKnownOptions(where, options, [...MESHLESS_SERVER_KEYS, ...SERVER_TLS_OPTION_KEYS, ...nodeKeys]);
}
