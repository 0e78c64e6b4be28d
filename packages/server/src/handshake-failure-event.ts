import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { classifyHandshakeFailure, type HandshakeFailureReason } from './handshake-failure.js';

/**
 * The message of the `meshless:handshake-failure` channel and of the `onRefusal` server option: one
 * TLS handshake the server refused, with who made it and why.
 *
 * @example
 * ```ts
 * diagnostics.subscribe(channels.handshakeFailure, (message) => {
 *   const { reason, remoteAddress, remotePort } = message as HandshakeFailureEvent;
 *   log.warn({ reason, remoteAddress, remotePort }, 'TLS handshake refused');
 * });
 * ```
 */
export interface HandshakeFailureEvent {
  /** The bucket an operator alerts on. */
  reason: HandshakeFailureReason;
  /**
   * What went wrong. For a client certificate OpenSSL did not verify, an error whose `code` is the
   * OpenSSL verify code (`UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, `CERT_HAS_EXPIRED`, ...), never the
   * `ECONNRESET` of the socket Node closed because of it.
   */
  error: Error & { code?: string };
  /** OpenSSL's verify code for the client certificate, when one was presented and did not verify. */
  verifyError?: string;
  /** The client's address, read when the connection arrived (it is gone once the socket is closed). */
  remoteAddress?: string;
  remotePort?: number;
  /** Set when meshless refused a peer after the handshake: whether that handshake resumed a session. */
  resumed?: boolean;
}

type Remote = { remoteAddress?: string; remotePort?: number };

/**
 * Reads and keeps a new connection's address. Node forgets it once a socket is destroyed, which is
 * how a refused handshake ends; a socket that read its address once keeps answering with it.
 *
 * @example
 * ```ts
 * server.prependListener('connection', rememberRemote);
 * ```
 */
export function rememberRemote(socket: Socket): void {
  void socket.remoteAddress;
}

// A server's TLS socket wraps the TCP socket of 'connection' as `_parent` (a Node internal): its
// address is read there first, where rememberRemote kept it. Tested by the handshake-failure tests,
// which fail without an address the day this changes.
function remoteOf(socket: TLSSocket | undefined): Remote {
  if (!socket) return {};
  const parent = (socket as unknown as { _parent?: Remote })._parent;
  return {
    remoteAddress: parent?.remoteAddress ?? socket.remoteAddress,
    remotePort: parent?.remotePort ?? socket.remotePort,
  };
}

/**
 * The event for a handshake that failed in OpenSSL or in Node's check of the client certificate
 * (`tlsClientError`), or that meshless refused after it (`error` given by meshless).
 *
 * @example
 * ```ts
 * server.on('tlsClientError', (error, socket) => publish(handshakeFailureEvent(error, socket)));
 * ```
 */
export function handshakeFailureEvent(
  error: Error & { code?: string },
  socket: TLSSocket | undefined,
  reason?: HandshakeFailureReason,
): HandshakeFailureEvent {
  const verifyError = verifyCodeOf(socket);
  const explained =
    verifyError && !isVerifyError(error, verifyError) ? unverified(verifyError, error) : error;
  return {
    reason: reason ?? classifyHandshakeFailure(explained, verifyError),
    error: explained,
    ...(verifyError ? { verifyError } : {}),
    ...remoteOf(socket),
  };
}

/**
 * The error for a client certificate that did not verify: its code is OpenSSL's verify code.
 *
 * @example
 * ```ts
 * unverified('CERT_HAS_EXPIRED').message; // 'client certificate did not verify: CERT_HAS_EXPIRED'
 * ```
 */
export function unverified(verifyError: string, cause?: Error): Error & { code: string } {
  return Object.assign(
    new Error(`client certificate did not verify: ${verifyError}`, cause ? { cause } : undefined),
    { code: verifyError },
  );
}

function verifyCodeOf(socket: TLSSocket | undefined): string | undefined {
  const value = socket?.authorizationError as string | Error | null | undefined;
  if (!value) return undefined;
  return typeof value === 'string' ? value : ((value as { code?: string }).code ?? value.message);
}

function isVerifyError(error: Error & { code?: string }, verifyError: string): boolean {
  return error.code === verifyError;
}
