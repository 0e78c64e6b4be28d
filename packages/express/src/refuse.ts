import type { ServerResponse } from 'node:http';
import type { Refusal } from './decide.js';

/**
 * Answers with the refusal's status and `{"error":…,"reason":…}`, byte for byte what
 * @meshless/server answers, with Node's own response API so it works the same under Express 4 and 5.
 * The body names the rule that failed, never the certificate; details go to the decision event.
 */
export function refuse(res: ServerResponse, refusal: Refusal): void {
  const body = `${JSON.stringify({ error: refusal.error, reason: refusal.reason })}\n`;
  res.statusCode = refusal.status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
