// The client of bench/churn.bench.ts: short mutual-TLS connections, each a full handshake (no
// session reuse) and one HTTP/1.1 request with Connection: close. On { type: 'run', count } it makes
// `count` of them, `concurrency` at a time, and answers how many failed.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { ChurnClientConfig, ChurnClientMessage } from '../lib/messages.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChurnClientConfig;
const secureContext = tls.createSecureContext({
  cert: readFileSync(config.certs.clientCert, 'utf8'),
  key: readFileSync(config.certs.clientKey, 'utf8'),
  ca: readFileSync(config.certs.ca, 'utf8'),
});

function connectOnce(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: config.port,
      secureContext,
      servername: 'localhost',
    });
    let answered = false;
    socket.once('secureConnect', () =>
      socket.end('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    socket.on('data', () => {
      answered = true;
    });
    socket.on('error', () => {});
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('close', () => resolve(answered));
  });
}

async function run(count: number): Promise<number> {
  let started = 0;
  let failed = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      if (!(await connectOnce())) failed++;
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  return failed;
}

const send = (message: ChurnClientMessage) => process.send?.(message);
process.on('message', async (message: { type: string; count?: number }) => {
  if (message.type === 'run') send({ type: 'ran', failed: await run(message.count ?? 0) });
  if (message.type === 'stop') process.exit(0);
});
send({ type: 'ready' });
