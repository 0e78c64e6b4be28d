// The handshake generator: `concurrency` loops of tls.connect → handshake → first session ticket →
// close, with a client certificate, offering the newest session ticket when `resume` is set. In its
// own process; reads the server's CPU from /proc at the edges of a fixed window and reports over IPC.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { HandshakeConfig, HandshakeResult } from '../lib/messages.js';
import { cpuMicros, totalCpuMicros } from '../lib/proc.js';

const config = JSON.parse(process.argv[2] ?? '{}') as HandshakeConfig;
const context = tls.createSecureContext({
  cert: readFileSync(config.certs.clientCert, 'utf8'),
  key: readFileSync(config.certs.clientKey, 'utf8'),
  ca: readFileSync(config.certs.ca, 'utf8'),
});

let session: Buffer | undefined;
let measuring = false;
let stopped = false;
let handshakes = 0;
let resumed = 0;
let errors = 0;
let firstError: string | undefined;
let protocol: string | undefined;
let cipher: string | undefined;

// One connection: handshake, then a clean close (the client ends, the server ends in turn). The
// session tickets a TLS 1.3 server sends after the handshake arrive before its end, so each server
// does its full work, tickets included, and none writes into a reset socket. A resumed TLS 1.3
// connection may bring no new ticket; the last one received is offered again.
function connectOnce(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const socket = tls.connect({
      host: config.host,
      port: config.port,
      servername: config.servername,
      secureContext: context,
      ...(config.resume && session ? { session } : {}),
    });
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) {
        if (measuring) errors++;
        firstError ??= String(error);
      }
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(() => finish(new Error('connection not closed within 2 s')), 2000);
    socket.once('secureConnect', () => {
      if (measuring) {
        handshakes++;
        if (socket.isSessionReused()) resumed++;
        protocol ??= socket.getProtocol() ?? undefined;
        cipher ??= socket.getCipher()?.name;
      }
      socket.end();
    });
    socket.on('session', (ticket: Buffer) => {
      session = ticket;
    });
    socket.resume();
    socket.once('error', finish);
    socket.once('close', () => finish());
  });
}

async function loop(): Promise<void> {
  while (!stopped) await connectOnce();
}

const loops = Array.from({ length: config.concurrency }, () => loop());
await new Promise((resolve) => setTimeout(resolve, config.warmupMs));
measuring = true;
const startedAt = performance.now();
const serverBefore = totalCpuMicros(config.serverPids);
const clientBefore = cpuMicros(process.pid);
await new Promise((resolve) => setTimeout(resolve, config.durationMs));
const serverCpu = totalCpuMicros(config.serverPids) - serverBefore;
const clientCpu = cpuMicros(process.pid) - clientBefore;
const seconds = (performance.now() - startedAt) / 1000;
measuring = false;
stopped = true;
await Promise.allSettled(loops);

const result: HandshakeResult = {
  handshakes,
  resumed,
  errors,
  ...(firstError ? { firstError } : {}),
  seconds,
  perSecond: handshakes / seconds,
  serverCpuPerHandshakeUs: handshakes ? serverCpu / handshakes : 0,
  clientCpuPerHandshakeUs: handshakes ? clientCpu / handshakes : 0,
  ...(protocol ? { protocol } : {}),
  ...(cipher ? { cipher } : {}),
};
process.send?.({ type: 'result', ...result }, () => process.exit(0));
