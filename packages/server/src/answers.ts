import type { ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';

/** The two refusals: no verified peer (401) and a verified peer that is not allowed (403). */
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

function bodyOf(refusal: Refusal): string {
  return `${JSON.stringify({ error: refusal.error, reason: refusal.reason })}\n`;
}

/** Answers an HTTP/1.1 (or HTTP/2 compatibility) request with the refusal as a short JSON body. */
export function refuseResponse(res: ServerResponse, refusal: Refusal): void {
  const body = bodyOf(refusal);
  res.writeHead(refusal.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers an HTTP/2 stream with the refusal. */
export function refuseStream(stream: ServerHttp2Stream, refusal: Refusal): void {
  const body = bodyOf(refusal);
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({
    ':status': refusal.status,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  stream.end(body);
}
