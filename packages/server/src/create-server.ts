import type { RequestListener } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { SERVER_TLS_OPTION_KEYS } from '@meshless/core';
import { attachMeshless, meshlessTlsOptions } from './attach.js';
import { HTTP2_SERVER_OPTION_KEYS, HTTPS_SERVER_OPTION_KEYS } from './node-server-options.js';
import { MESHLESS_SERVER_KEYS, type MeshlessServerOptions, validateServerOptions } from './options.js';

/**
 * Options of {@link createServer}: meshless's, the TLS options it carries across rotations (`crl`,
 * `secureOptions`, `ciphers`, `minVersion`, ...), and the node:https server options. Unknown keys,
 * options meshless manages and options that would bypass its trust throw `ERR_MESHLESS_INVALID_OPTION`.
 */
export type CreateServerOptions = MeshlessServerOptions &
  Omit<
    https.ServerOptions,
    | 'cert'
    | 'key'
    | 'ca'
    | 'pfx'
    | 'requestCert'
    | 'rejectUnauthorized'
    | 'ticketKeys'
    | 'handshakeTimeout'
    | 'minVersion'
    | 'maxVersion'
  >;

/** Options of {@link createSecureServer}: meshless's plus any node:http2 secure server option except the TLS material. */
export type CreateSecureServerOptions = MeshlessServerOptions &
  Omit<
    http2.SecureServerOptions,
    'cert' | 'key' | 'ca' | 'pfx' | 'requestCert' | 'rejectUnauthorized' | 'ticketKeys' | 'handshakeTimeout'
  >;

// Keys that stay with meshless: its own, and the TLS options it carries into every secure context.
const MESHLESS_PART = new Set<string>([...MESHLESS_SERVER_KEYS, ...SERVER_TLS_OPTION_KEYS]);

// Checks every option (meshless's, TLS, and the Node server's in `nodeKeys`), then splits them:
// meshless's part goes to meshlessTlsOptions and attachMeshless (one object, so that both see the
// same captured TLS options), the rest to Node as it is.
function split<T extends MeshlessServerOptions>(
  options: T,
  where: string,
  nodeKeys: readonly string[],
): [MeshlessServerOptions, Record<string, unknown>] {
  validateServerOptions(options, where, nodeKeys);
  const meshless: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (MESHLESS_PART.has(key)) meshless[key] = value;
    else rest[key] = value;
  }
  return [meshless as unknown as MeshlessServerOptions, rest];
}

/**
 * A drop-in for `https.createServer` with mutual TLS: clients must present a certificate that
 * verifies against the source's trust bundle (or the handshake fails), `authorize` decides which
 * verified peers get an answer (others get 403), `peerOf(req)` gives the peer's identity, and the
 * server follows the source's rotations without a restart or a dropped connection.
 *
 * @example
 * ```ts
 * import { authorize } from '@meshless/core';
 * import { createServer, peerOf } from '@meshless/server';
 * import { watchCertificateFiles } from '@meshless/watcher';
 *
 * const source = await watchCertificateFiles({ dir: '/var/run/secrets/tls', layout: 'cert-manager' });
 * const server = createServer({ source, authorize: authorize.id('spiffe://example.org/ns/prod/sa/orders') }, (req, res) => {
 *   res.end(`hello ${peerOf(req)?.spiffeId}\n`);
 * });
 * server.listen(8443);
 * ```
 */
export function createServer(options: CreateServerOptions, listener?: RequestListener): https.Server {
  const [meshless, rest] = split(options, 'createServer', HTTPS_SERVER_OPTION_KEYS);
  const server = https.createServer({ ...rest, ...meshlessTlsOptions(meshless) }, listener);
  attachMeshless(server, meshless);
  return server;
}

/**
 * A drop-in for `http2.createSecureServer` with mutual TLS (and HTTP/1.1 for clients that do not
 * speak HTTP/2, unless `allowHTTP1: false`): the same verification, authorization, `peerOf()` and
 * rotation as {@link createServer}, for streams and compatibility requests alike.
 *
 * @example
 * ```ts
 * const server = createSecureServer({ source, authorize: authorize.memberOf('example.org') }, (req, res) => {
 *   res.end(`hello ${peerOf(req)?.spiffeId}\n`);
 * });
 * server.listen(8443);
 * ```
 */
export function createSecureServer(
  options: CreateSecureServerOptions,
  listener?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
): http2.Http2SecureServer {
  const [meshless, rest] = split(options, 'createSecureServer', HTTP2_SERVER_OPTION_KEYS);
  const server = http2.createSecureServer(
    { allowHTTP1: true, ...rest, ...meshlessTlsOptions(meshless) },
    listener,
  );
  attachMeshless(server, meshless);
  return server;
}
