import { randomBytes, type X509Certificate } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import {
  type ApplicationTlsOptions,
  type AuthorizationDecision,
  channels,
  identityFromCertificate,
  PeerAdmission,
  serverContextOptions,
  type TlsMaterial,
} from '@meshless/core';
import {
  forbidden,
  type Refusal,
  refuseResponse,
  refuseSocket,
  refuseStream,
  unauthenticated,
} from './answers.js';
import { applicationTlsOf } from './application-tls.js';
import { reasonOfPeerRefusal } from './handshake-failure.js';
import {
  type HandshakeFailureEvent,
  handshakeFailureEvent,
  rememberRemote,
  unverified,
} from './handshake-failure-event.js';
import { type MeshlessServerOptions, validateServerOptions } from './options.js';
import { presentedCertificate, readPeerCertificate } from './peer-certificate.js';
import { type ConnectionState, connectionStateOf, setConnectionState } from './peer-state.js';
import { servePlaintextToo } from './permissive.js';
import { closeUntrusted, rememberPeerCertificate, trustChanged } from './trust-change.js';

const connectionChannel = diagnostics.channel(channels.connection);
const handshakeFailureChannel = diagnostics.channel(channels.handshakeFailure);
const authorizationChannel = diagnostics.channel(channels.authorization);
const requestChannel = diagnostics.channel(channels.request);

/**
 * How long a client may take to complete its TLS handshake (and, in permissive mode, to send its
 * first bytes) unless `handshakeTimeout` says otherwise, in milliseconds.
 *
 * @example
 * ```ts
 * createServer({ source, authorize, handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS / 2 }, app);
 * ```
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The TLS options a meshless server is created with, for frameworks that create the server
 * themselves: the secure defaults, replaced by the application's own TLS options where it gave some.
 */
export interface MeshlessTlsOptions extends ApplicationTlsOptions {
  cert: string;
  key: string;
  ca: string;
  requestCert: true;
  rejectUnauthorized: boolean;
  ticketKeys: Buffer;
  /** Binds TLS sessions to this server, its mode and its trust bundle (see `PeerAdmission`). */
  sessionIdContext: string;
  handshakeTimeout: number;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers: string;
  honorCipherOrder: boolean;
  ecdhCurve: string;
}

/**
 * The TLS options to create a server with (strict mutual TLS from the source's current material, the
 * secure defaults and the application's TLS options given in the same object, such as `crl`). Use it
 * with {@link attachMeshless}, given the same options object, when a framework creates the server
 * (TLS options spread beside it would be dropped at the first rotation); `createServer` does both.
 *
 * @example
 * ```ts
 * const meshless = { source, authorize: authorize.any() };
 * const server = https.createServer({ ...meshlessTlsOptions(meshless) }, app);
 * attachMeshless(server, meshless);
 * ```
 */
export function meshlessTlsOptions(options: MeshlessServerOptions): MeshlessTlsOptions {
  validateServerOptions(options, 'meshlessTlsOptions');
  const material = options.source.current();
  const applicationTls = applicationTlsOf(options);
  return {
    ...(serverContextOptions(material, ticketKeysFor(options), applicationTls) as Omit<
      MeshlessTlsOptions,
      'requestCert' | 'rejectUnauthorized' | 'handshakeTimeout' | 'sessionIdContext'
    >),
    sessionIdContext: admissionFor(options).sessionIdContext(
      material,
      options.mode ?? 'strict',
      applicationTls.sessionIdContext,
    ),
    requestCert: true,
    // Strict: OpenSSL refuses a missing certificate and Node closes an unverified one. Permissive must
    // let certificate-less TLS clients in, so Node's check is replaced by meshless's own in
    // 'secureConnection' (refuseUnverified), which still closes every unverified certificate.
    rejectUnauthorized: (options.mode ?? 'strict') === 'strict',
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };
}

// One admission per server: the session id context the server starts with must be the one its
// verdicts belong to.
const admissions = new WeakMap<object, PeerAdmission>();
function admissionFor(options: MeshlessServerOptions): PeerAdmission {
  let admission = admissions.get(options);
  if (!admission) {
    admission = new PeerAdmission();
    admissions.set(options, admission);
  }
  return admission;
}

// Ticket keys must be the same for the options a server starts with and every later rotation.
const generatedTicketKeys = new WeakMap<object, Buffer>();
function ticketKeysFor(options: MeshlessServerOptions): Buffer {
  if (options.ticketKeys) return options.ticketKeys;
  let keys = generatedTicketKeys.get(options);
  if (!keys) {
    keys = randomBytes(48);
    generatedTicketKeys.set(options, keys);
  }
  return keys;
}

/**
 * Wires meshless into an existing TLS server (node:https, node:http2, or a framework's): reads each
 * connection's peer identity once, authorizes requests (403 for a denied peer), follows the source's
 * rotations with `setSecureContext` (full options, stable ticket keys), and reports on the
 * diagnostics channels. The server must have been created with {@link meshlessTlsOptions}.
 *
 * @example
 * ```ts
 * const meshless = { source, authorize: authorize.id('spiffe://example.org/ns/prod/sa/orders') };
 * const server = https.createServer(meshlessTlsOptions(meshless), app);
 * attachMeshless(server, meshless);
 * ```
 */
export function attachMeshless(server: TlsServer, options: MeshlessServerOptions): void {
  validateServerOptions(options, 'attachMeshless');
  const { source, authorize } = options;
  const ticketKeys = ticketKeysFor(options);
  const admission = admissionFor(options);
  const mode = options.mode ?? 'strict';
  // Taken once: every later secure context carries the same application TLS options (crl, ...).
  const applicationTls = applicationTlsOf(options);
  const closeDenied = options.closeDenied ?? false;
  const closeOnTrustChange = options.closeOnTrustChange ?? true;
  const permissive = options.mode === 'permissive';
  const refused = handshakeFailureReporter(options.onRefusal);
  const sockets = new Set<TLSSocket>();
  const sessions = new Set<Http2Session>();
  // The material of the latest handshakes, kept here so that no handler calls current(), which throws
  // while the source's material is withdrawn.
  let material = source.current();
  let withdrawn = false;

  // While the issuer has withdrawn the certificate (a SPIFFE Workload API that stopped granting the
  // SVID), new TLS connections are refused before any handshake: the server must not keep presenting
  // an identity that was taken back. Connections already made are left alone. Added before permissive
  // mode takes the 'connection' listeners over, so that plaintext, which uses no certificate, goes on.
  server.prependListener('connection', (socket: Socket) => {
    if (withdrawn) socket.destroy();
  });
  server.prependListener('connection', rememberRemote);

  server.prependListener('secureConnection', (socket: TLSSocket) => {
    if (permissive && refuseUnverified(socket, refused)) return;
    // Only a certificate OpenSSL verified against the bundle makes a peer, and only once meshless
    // admitted it too (on a resumed session as on a full handshake).
    const cert = socket.authorized ? readPeerCertificate(socket) : undefined;
    if (!cert && !permissive) {
      socket.destroy();
      return;
    }
    const admitted = cert ? admission.admit(cert, socket.isSessionReused(), material) : undefined;
    if (refusePeer(socket, admitted?.refusal, refused)) return;
    if (cert) rememberPeerCertificate(socket, cert);
    const state = readConnectionState(cert, authorize, admitted?.verdict?.notAfter);
    setConnectionState(socket, state);
    if (connectionChannel.hasSubscribers) publishConnection(socket, state);
    if (closeDenied && state.peer && state.decision && !state.decision.allowed) {
      publishDecision(state, true);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    refused(() => handshakeFailureEvent(error, socket));
  });

  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  const onUpdate = (next: TlsMaterial, previous: TlsMaterial) => {
    material = next;
    withdrawn = false;
    server.setSecureContext({
      ...serverContextOptions(next, ticketKeys, applicationTls),
      sessionIdContext: admission.sessionIdContext(next, mode, applicationTls.sessionIdContext),
    });
    if (closeOnTrustChange && trustChanged(previous, next)) closeUntrusted(next, sockets, sessions);
  };
  const onWithdrawn = () => {
    withdrawn = true;
  };
  source.on('update', onUpdate);
  source.on('withdrawn', onWithdrawn);
  server.once('close', () => {
    source.off('update', onUpdate);
    source.off('withdrawn', onWithdrawn);
  });
  guardRequests(server, permissive);
  if (permissive) {
    servePlaintextToo(server, {
      http2: isHttp2Server(server),
      timeoutMs: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      serverOptions: options,
    });
  }
}

// Fail closed in permissive mode: a client that presents a certificate that does not verify is
// refused, never downgraded to an unauthenticated TLS connection.
function refuseUnverified(socket: TLSSocket, refused: ReportRefusal): boolean {
  if (socket.authorized || !presentedCertificate(socket)) return false;
  refused(() => handshakeFailureEvent(unverified(String(socket.authorizationError)), socket));
  socket.destroy();
  return true;
}

// OpenSSL verified the chain; meshless refuses what OpenSSL does not check (the X509-SVID profile,
// the key policy, the trust domain of the peer's SPIFFE ID, a resumed session's expiry): the
// connection is closed before any request and the refusal reported as a handshake failure.
function refusePeer(socket: TLSSocket, refusal: Error | undefined, refused: ReportRefusal): boolean {
  if (!refusal) return false;
  refused(() => ({
    ...handshakeFailureEvent(refusal, socket, reasonOfPeerRefusal(refusal)),
    resumed: socket.isSessionReused(),
  }));
  socket.destroy();
  return true;
}

type ReportRefusal = (event: () => HandshakeFailureEvent) => void;

// Publishes a refused handshake on the channel and hands it to the server's onRefusal; the event is
// built only when one of them wants it.
function handshakeFailureReporter(onRefusal: MeshlessServerOptions['onRefusal']): ReportRefusal {
  return (build) => {
    if (!handshakeFailureChannel.hasSubscribers && !onRefusal) return;
    const event = build();
    if (handshakeFailureChannel.hasSubscribers) handshakeFailureChannel.publish(event);
    onRefusal?.(event);
  };
}

function readConnectionState(
  cert: X509Certificate | undefined,
  authorize: MeshlessServerOptions['authorize'],
  validUntil: number | undefined,
): ConnectionState {
  const peer = cert ? identityFromCertificate(cert) : undefined;
  return {
    security: peer ? 'mtls' : 'tls',
    peer,
    decision: peer ? authorize(peer) : undefined,
    ...(peer && validUntil !== undefined ? { validUntil } : {}),
  };
}

function publishConnection(socket: TLSSocket, state: ConnectionState): void {
  connectionChannel.publish({
    security: state.security,
    peer: state.peer,
    protocol: socket.getProtocol(),
    cipher: socket.getCipher()?.name,
    resumed: socket.isSessionReused(),
    remoteAddress: socket.remoteAddress,
  });
}

function publishDecision(state: ConnectionState, connectionClosed: boolean): void {
  if (!authorizationChannel.hasSubscribers || !state.decision) return;
  authorizationChannel.publish({
    decision: decisionLabel(state.decision),
    enforced: state.decision.enforced !== false,
    reason: state.decision.reason,
    peer: state.peer,
    security: state.security,
    connectionClosed,
  });
}

// Every request, whatever its security, so that coverage counts are complete. Only called when
// someone subscribes, so the request path allocates nothing for it otherwise.
function publishRequest(
  state: ConnectionState | undefined,
  refusal: Refusal | undefined,
  socket: { remoteAddress?: string; encrypted?: boolean } | undefined,
  userAgent: string | undefined,
  method: string | undefined,
): void {
  requestChannel.publish({
    security: state?.security ?? (socket?.encrypted ? 'tls' : 'plaintext'),
    decision: state?.decision ? decisionLabel(state.decision) : refusal ? 'deny' : 'none',
    peer: state?.peer,
    remoteAddress: socket?.remoteAddress,
    userAgent,
    method,
  });
}

// The refusal for a request, or undefined to let it through. Decided per connection, read per request.
// In permissive mode, requests without a verified peer pass: route middleware decides about them.
function refusalFor(state: ConnectionState | undefined, permissive: boolean): Refusal | undefined {
  if (!state?.peer || !state.decision)
    return permissive ? undefined : unauthenticated('no verified peer certificate');
  // A kept-alive connection does not outlive its peer's certificate (or chain): short lifetimes are
  // the revocation, so a stolen key must not be worth a connection held open for ever.
  if (state.validUntil !== undefined && Date.now() > state.validUntil)
    return unauthenticated('the peer certificate expired during this connection');
  return state.decision.allowed ? undefined : forbidden(state.decision.reason);
}

// Requests are guarded where the server emits them, so the check holds however the application's
// listener was attached (constructor argument, server.on('request'), a framework). This runs for
// every request, so it allocates nothing of its own: the two arguments it reads are named, and the
// event goes on with the `arguments` it came with (no rest array, no spread copy).
function guardRequests(server: TlsServer, permissive: boolean): void {
  const emit = server.emit;
  server.emit = function guardedEmit(
    this: TlsServer,
    event: string | symbol,
    first?: unknown,
    second?: unknown,
  ): boolean {
    // checkContinue and checkExpectation replace 'request' for requests with an Expect header.
    if (event === 'request' || event === 'checkContinue' || event === 'checkExpectation') {
      const req = first as IncomingMessage;
      const state = connectionStateOf(req.socket);
      if (authorizationChannel.hasSubscribers && state?.decision) publishDecision(state, false);
      const refusal = refusalFor(state, permissive);
      // HTTP/2 compatibility requests were already counted as streams.
      if (requestChannel.hasSubscribers && req.httpVersionMajor !== 2) {
        publishRequest(state, refusal, req.socket, req.headers['user-agent'], req.method);
      }
      if (refusal) {
        refuseResponse(second as ServerResponse, refusal);
        return true;
      }
    } else if (event === 'upgrade' || event === 'connect') {
      // The request takes the socket over (WebSocket, CONNECT tunnels): no response object, so a
      // refusal is written on the socket itself.
      const req = first as IncomingMessage;
      const state = connectionStateOf(req.socket);
      if (authorizationChannel.hasSubscribers && state?.decision) publishDecision(state, false);
      const refusal = refusalFor(state, permissive);
      if (requestChannel.hasSubscribers) {
        publishRequest(state, refusal, req.socket, req.headers['user-agent'], req.method);
      }
      if (refusal) {
        refuseSocket(second as Duplex, refusal);
        return true;
      }
    } else if (event === 'stream') {
      const stream = first as ServerHttp2Stream;
      const headers = second as IncomingHttpHeaders | undefined;
      const state = connectionStateOf(stream.session?.socket);
      const refusal = refusalFor(state, permissive);
      if (requestChannel.hasSubscribers) {
        publishRequest(state, refusal, stream.session?.socket, headers?.['user-agent'], headers?.[':method']);
      }
      if (refusal) {
        // The compatibility 'request' that would follow is never emitted for a refused stream.
        refuseStream(stream, refusal);
        return true;
      }
    }
    // biome-ignore lint/complexity/noArguments: forwards every argument without an array per event
    return Reflect.apply(emit, this, arguments) as boolean;
  } as typeof server.emit;
}

// node:http2 does not export its server class; only HTTP/2 servers have updateSettings().
function isHttp2Server(server: TlsServer): boolean {
  return typeof (server as unknown as { updateSettings?: unknown }).updateSettings === 'function';
}

/** `allow`, `deny`, or `audit_deny` for a peer that audit mode let through but enforcement would refuse. */
export function decisionLabel(decision: AuthorizationDecision): 'allow' | 'deny' | 'audit_deny' {
  if (!decision.allowed) return 'deny';
  return decision.enforced === false && decision.wouldAllow === false ? 'audit_deny' : 'allow';
}
