// The two kinds of caller: an unmigrated one on plain node:http, and a migrated one on createFetch.
// Both answer `call()` with `{ ok, status? , error? }` and never throw, so a stage can count outcomes.
import http from 'node:http';
import { createFetch } from '@meshless/client';

/** A caller that has not migrated: plaintext HTTP/1.1 with keep-alive, as most services start. */
export function plainCaller({ port, userAgent }) {
  const agent = new http.Agent({ keepAlive: true });
  return {
    kind: 'plain node:http',
    call: () =>
      new Promise((resolve) => {
        const req = http.get(
          {
            host: '127.0.0.1',
            port,
            path: '/invoices',
            agent,
            headers: { 'user-agent': userAgent },
            timeout: 2000,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode }));
          },
        );
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', (error) => resolve({ ok: false, error: error.code ?? error.message }));
      }),
    async close() {
      agent.destroy();
    },
  };
}

/** A migrated caller: mutual TLS with its own certificate, and it checks that it talks to `serverId`. */
export function mtlsCaller({ port, userAgent, source, serverId }) {
  const fetch = createFetch({ source, authorizeServer: serverId });
  return {
    kind: 'createFetch (mTLS)',
    async call() {
      try {
        const answer = await fetch(`https://127.0.0.1:${port}/invoices`, {
          headers: { 'user-agent': userAgent },
        });
        await answer.arrayBuffer();
        return { ok: answer.status === 200, status: answer.status };
      } catch (error) {
        return { ok: false, error: error.cause?.code ?? error.message };
      }
    },
    close: () => fetch.close(),
  };
}
