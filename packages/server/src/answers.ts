import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';

/**
 * A refusal as the client sees it: 401 when there is no verified peer, 403 when the peer is not
 * allowed, and the JSON body `{"error":…,"reason":…}`. The server, Express and Fastify answer with
 * the same bytes.
 */
export type Refusal =
  | { status: 401; error: 'peer_unauthenticated'; reason: string }
  | { status: 403; error: 'peer_forbidden'; reason: string };

/** A 401 for a request without a verified peer. */
export function unauthenticated(reason: string): Refusal {
  return { status: 401, error: 'peer_unauthenticated', reason };
}

/** A 403 for a verified peer the authorizer denied. */
export function forbidden(reason: string): Refusal {
  return { status: 403, error: 'peer_forbidden', reason };
}

/**
 * The body of a refusal: it names the rule that failed, never the certificate (details go to logs
 * and diagnostics).
 *
 * @example
 * ```ts
 * reply.code(refusal.status).type('application/json').send(refusalBody(refusal));
 * ```
 */
export function refusalBody(refusal: Refusal): string {
  return `${JSON.stringify({ error: refusal.error, reason: refusal.reason })}\n`;
}

/**
 * Answers an HTTP/1.1 (or HTTP/2 compatibility) request with a refusal, through Node's own response
 * API, so it works the same under every framework (Express 4 and 5 included).
 *
 * @example
 * ```ts
 * const outcome = authorizeRequest(req, authorize.id('spiffe://example.org/ns/prod/sa/orders'));
 * if (outcome.refusal) return refuseResponse(res, outcome.refusal);
 * ```
 */
export function refuseResponse(res: ServerResponse, refusal: Refusal): void {
  const body = refusalBody(refusal);
  res.writeHead(refusal.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers an HTTP/2 stream with the refusal. */
export function refuseStream(stream: ServerHttp2Stream, refusal: Refusal): void {
  const body = refusalBody(refusal);
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({
    ':status': refusal.status,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  stream.end(body);
}

const STATUS_TEXT = { 401: 'Unauthorized', 403: 'Forbidden' } as const;

/**
 * Answers a request that took the socket over (`upgrade`, `connect`) with a refusal written on the
 * socket itself, then closes it: Node hands such requests no response object.
 *
 * @example
 * ```ts
 * server.on('upgrade', (req, socket) => refuseSocket(socket, forbidden('not allowed')));
 * ```
 */
export function refuseSocket(
  socket: { end(data: string): unknown; destroyed?: boolean },
  refusal: Refusal,
): void {
  if (socket.destroyed) return;
  const body = refusalBody(refusal);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
