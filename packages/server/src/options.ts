import type { Authorizer, CertificateSource } from '@meshless/core';
import type { HandshakeFailureEvent } from './handshake-failure-event.js';

/** How a meshless server treats clients. */
export type ServerMode = 'strict' | 'permissive';

/** The meshless part of a server's options; the rest are node:https / node:http2 options. */
export interface MeshlessServerOptions {
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
   * clients keep resuming; share them between the workers of a cluster.
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

/** Throws TypeError for options a server cannot start with. */
export function validateServerOptions(options: MeshlessServerOptions): void {
  if (!options || typeof options !== 'object') throw new TypeError('meshless server: options are required');
  const { source, authorize, mode, ticketKeys, onRefusal } = options;
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw new TypeError(
      'meshless server: options.source must be a CertificateSource (for example from watchCertificateFiles)',
    );
  }
  if (typeof authorize !== 'function') {
    throw new TypeError(
      'meshless server: options.authorize is required (use authorize.any() to accept every verified peer)',
    );
  }
  if (mode !== undefined && !MODES.includes(mode)) {
    throw new TypeError(
      `meshless server: options.mode must be one of ${MODES.join(', ')}, not ${JSON.stringify(mode)}`,
    );
  }
  if (onRefusal !== undefined && typeof onRefusal !== 'function') {
    throw new TypeError('meshless server: options.onRefusal must be a function');
  }
  if (ticketKeys !== undefined && (!Buffer.isBuffer(ticketKeys) || ticketKeys.length !== 48)) {
    throw new TypeError('meshless server: options.ticketKeys must be a 48-byte Buffer');
  }
  for (const forbidden of ['rejectUnauthorized', 'requestCert', 'cert', 'key', 'ca', 'pfx'] as const) {
    if (forbidden in options) {
      throw new TypeError(
        `meshless server: options.${forbidden} is managed by meshless from options.source and mode; remove it`,
      );
    }
  }
}
