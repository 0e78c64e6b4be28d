// Requests for the metrics tests: over mTLS, TLS without a client certificate, or plaintext, each on
// a fresh connection, with a chosen user agent.
import http from 'node:http';
import https from 'node:https';

export interface Credentials {
  cert?: string;
  key?: string;
  ca: string;
}

/** One GET; `tls` undefined means plaintext HTTP. Resolves with the status. */
export function request(port: number, tls: Credentials | undefined, userAgent = 'test'): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path: '/',
      agent: false as const,
      headers: { 'user-agent': userAgent },
      timeout: 5000,
    };
    const onResponse = (res: http.IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    };
    const req = tls
      ? https.get({ ...options, ...tls, checkServerIdentity: () => undefined }, onResponse)
      : http.get(options, onResponse);
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
  });
}

export async function times(n: number, send: () => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push(await send());
  return statuses;
}
