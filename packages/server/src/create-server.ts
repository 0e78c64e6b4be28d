import type { RequestListener } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { attachMeshless, meshlessTlsOptions } from './attach.js';
import type { MeshlessServerOptions } from './options.js';

/** Options of {@link createServer}: meshless's plus any node:https server option except the TLS material. */
export type CreateServerOptions = MeshlessServerOptions &
  Omit<
    https.ServerOptions,
    'cert' | 'key' | 'ca' | 'pfx' | 'requestCert' | 'rejectUnauthorized' | 'ticketKeys' | 'handshakeTimeout'
  >;

/** Options of {@link createSecureServer}: meshless's plus any node:http2 secure server option except the TLS material. */
export type CreateSecureServerOptions = MeshlessServerOptions &
  Omit<
    http2.SecureServerOptions,
    'cert' | 'key' | 'ca' | 'pfx' | 'requestCert' | 'rejectUnauthorized' | 'ticketKeys' | 'handshakeTimeout'
  >;

const MESHLESS_KEYS = [
  'source',
  'authorize',
  'mode',
  'closeDenied',
  'closeOnTrustChange',
  'ticketKeys',
  'handshakeTimeout',
  'onRefusal',
] as const;

function split<T extends MeshlessServerOptions>(
  options: T,
): [MeshlessServerOptions, Record<string, unknown>] {
  const rest: Record<string, unknown> = { ...(options as unknown as Record<string, unknown>) };
  for (const key of MESHLESS_KEYS) delete rest[key];
  return [options, rest];
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
  const [meshless, rest] = split(options);
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
  const [meshless, rest] = split(options);
  const server = http2.createSecureServer(
    { allowHTTP1: true, ...rest, ...meshlessTlsOptions(meshless) },
    listener,
  );
  attachMeshless(server, meshless);
  return server;
}
