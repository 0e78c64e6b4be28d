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
