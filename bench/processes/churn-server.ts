// The server of bench/churn.bench.ts, in its own process (run with --expose-gc): a strict meshless
// server, a bare node:https server with the same TLS settings that reads nothing about the peer, or
// that bare server reading the peer with getPeerX509Certificate() (Node's own call, to show its cost
// on this Node). On { type: 'sample' } it collects garbage and answers its resident memory.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ChurnServerConfig, ChurnServerMessage } from '../lib/messages.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChurnServerConfig;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('churn-server: run with --expose-gc');

const ok = (_req: unknown, res: { end(body: string): void }) => res.end('ok\n');

async function create(): Promise<https.Server> {
  const tls = {
    cert: readFileSync(config.certs.serverCert, 'utf8'),
    key: readFileSync(config.certs.serverKey, 'utf8'),
    ca: readFileSync(config.certs.ca, 'utf8'),
  };
  if (config.kind === 'meshless') {
    const { authorize, loadMaterial, staticSource } = await import('@meshless/core');
    const { createServer } = await import('@meshless/server');
    return createServer({ source: staticSource(loadMaterial(tls)), authorize: authorize.any() }, ok);
  }
  const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, ok);
  if (config.kind === 'https-x509') {
    const kept = Symbol('peer');
    server.on('secureConnection', (socket: TLSSocket) => {
      (socket as unknown as Record<symbol, unknown>)[kept] = socket.getPeerX509Certificate();
    });
  }
  return server;
}

async function settledRssKb(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    // Native objects (sockets, certificates) are freed by weak callbacks after the collection.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Math.round(process.memoryUsage().rss / 1024);
}

const send = (message: ChurnServerMessage) => process.send?.(message);
const server = await create();
server.listen(0, '127.0.0.1', () =>
  send({ type: 'listening', port: (server.address() as AddressInfo).port }),
);
process.on('message', async (message: { type: string }) => {
  if (message.type === 'sample') send({ type: 'sample', rssKb: await settledRssKb() });
  if (message.type === 'stop') server.close(() => process.exit(0));
});
