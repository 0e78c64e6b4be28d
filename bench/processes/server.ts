// One server under test, in its own process so that its CPU and memory can be read from /proc
// apart from the load generator's. Started by the bench files with fork(); the configuration is
// JSON in argv[2]. Runs on the built packages (dist), as users run them.
//
// Each kind answers the same small response, `hello <peer>`, after the same peer check: a request
// from a peer other than the load generator's identity gets 403, none gets 401.
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Server as NetServer, Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ServerConfig, ServerMessage } from '../lib/messages.js';
import { gcBetween, recordGcPauses } from './gc-recorder.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
let connections = 0;
let resumed = 0;
let tlsErrors = 0;
let serialOf: (() => string) | undefined;

recordGcPauses();

function countConnection(socket: TLSSocket): void {
  connections++;
  if (socket.isSessionReused()) resumed++;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

function pem(path: string | undefined): string {
  if (!path) throw new Error(`server ${config.kind}: certificate files are required`);
  return readFileSync(path, 'utf8');
}

// The hand-written baseline: what a careful team writes with node:https alone. The peer is read once
// per connection, when the handshake ends, and kept on the socket; identities are cached by
// fingerprint, since the same peers reconnect all day. Node's subjectAltName display string is
// what a hand-written server reads (meshless reads the DER instead).
const PEER = Symbol('peer');
type HandPeer = { id: string | undefined; allowed: boolean };
function handWrittenPeerCheck(server: tls.Server, allowedId: string): void {
  const byFingerprint = new Map<string, HandPeer>();
  server.on('secureConnection', (socket: TLSSocket) => {
    const cert = socket.authorized ? socket.getPeerX509Certificate() : undefined;
    if (!cert) return;
    let peer = byFingerprint.get(cert.fingerprint256);
    if (!peer) {
      const uris = (cert.subjectAltName ?? '')
        .split(', ')
        .filter((name) => name.startsWith('URI:'))
        .map((name) => name.slice(4));
      const id = uris.length === 1 ? uris[0] : undefined;
      peer = { id, allowed: id === allowedId };
      byFingerprint.set(cert.fingerprint256, peer);
    }
    (socket as unknown as Record<symbol, HandPeer>)[PEER] = peer;
  });
}

function handWrittenHandler(req: IncomingMessage, res: ServerResponse): void {
  const peer = (req.socket as unknown as Record<symbol, HandPeer | undefined>)[PEER];
  if (!peer) answer(res, 401, 'no verified peer certificate\n');
  else if (!peer.allowed) answer(res, 403, 'peer not allowed\n');
  else answer(res, 200, `hello ${peer.id}\n`);
}

async function start(): Promise<NetServer> {
  const certs = config.certs;
  switch (config.kind) {
    case 'http':
      return http.createServer((_req, res) => answer(res, 200, 'hello anonymous\n'));
    case 'sidecar-app': {
      // nginx verified the chain and the subject; the app trusts the header it sets, as an app behind
      // a mesh sidecar trusts X-Forwarded-Client-Cert.
      const server = http.createServer((req, res) => {
        const xfcc = req.headers['x-forwarded-client-cert'];
        const subject = typeof xfcc === 'string' ? /Subject="([^"]*)"/.exec(xfcc)?.[1] : undefined;
        if (subject === undefined) answer(res, 401, 'no verified peer certificate\n');
        else answer(res, 200, `hello ${subject}\n`);
      });
      // Longer than nginx's upstream keepalive_timeout (60 s): the proxy, not the app, closes idle
      // upstream connections, so no request is sent on a connection the app is closing.
      server.keepAliveTimeout = 65_000;
      return server;
    }
    case 'https': {
      const server = https.createServer(
        { cert: pem(certs?.serverCert), key: pem(certs?.serverKey), ca: pem(certs?.ca), requestCert: true },
        handWrittenHandler,
      );
      handWrittenPeerCheck(server, certs!.clientId);
      return server;
    }
    case 'https-per-request': {
      // What the design forbids: the peer certificate object built for every request.
      const server = https.createServer(
        { cert: pem(certs?.serverCert), key: pem(certs?.serverKey), ca: pem(certs?.ca), requestCert: true },
        (req, res) => {
          const cert = (req.socket as TLSSocket).getPeerCertificate();
          const uris = (cert.subjectaltname ?? '').split(', ').filter((name) => name.startsWith('URI:'));
          const id = uris.length === 1 ? uris[0]!.slice(4) : undefined;
          if (!id) answer(res, 401, 'no verified peer certificate\n');
          else if (id !== certs!.clientId) answer(res, 403, 'peer not allowed\n');
          else answer(res, 200, `hello ${id}\n`);
        },
      );
      return server;
    }
    case 'tls':
      return tls.createServer(
        { cert: pem(certs?.serverCert), key: pem(certs?.serverKey), ca: pem(certs?.ca), requestCert: true },
        (socket) => {
          socket.on('error', () => {});
          socket.resume();
        },
      );
    case 'meshless':
    case 'permissive':
    case 'meshless-watch': {
      // Imported here only, so that the baselines' memory holds none of meshless.
      const { authorize, loadMaterial, staticSource } = await import('@meshless/core');
      const { createServer, peerOf } = await import('@meshless/server');
      const source =
        config.kind === 'meshless-watch'
          ? await (await import('@meshless/watcher')).watchCertificateFiles({
              dir: config.watchDir!,
              layout: 'cert-manager',
            })
          : staticSource(
              loadMaterial({ cert: pem(certs?.serverCert), key: pem(certs?.serverKey), ca: pem(certs?.ca) }),
            );
      serialOf = () => source.current().identity.serialNumber;
      return createServer(
        {
          source,
          authorize: authorize.id(certs!.clientId),
          mode: config.kind === 'permissive' ? 'permissive' : 'strict',
        },
        (req, res) => answer(res, 200, `hello ${peerOf(req)?.spiffeId}\n`),
      );
    }
  }
}

for (const module of config.preload ?? []) await import(module);
const server = await start();
// The load generators keep their connections between measurement windows, a few seconds apart: longer
// than Node's 5 s default, on every HTTP server alike (nginx is given the same).
if ('keepAliveTimeout' in server && config.kind !== 'sidecar-app') {
  (server as http.Server).keepAliveTimeout = 120_000;
}
server.on('secureConnection', countConnection);
server.on('connection', (socket: Socket) => socket.on('error', () => {}));
server.on('tlsClientError', () => tlsErrors++);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  send({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message: { type: string; fromMs?: number; toMs?: number }) => {
  if (message.type === 'gc') {
    send({ type: 'gc', ...gcBetween(message.fromMs ?? 0, message.toMs ?? Number.POSITIVE_INFINITY) });
  } else if (message.type === 'stats') {
    send({ type: 'stats', connections, resumed, tlsErrors, ...(serialOf ? { serial: serialOf() } : {}) });
  } else if (message.type === 'stop') {
    // A normal exit, so that --cpu-prof writes its profile.
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
