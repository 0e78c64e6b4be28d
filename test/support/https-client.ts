// Test helpers for real TLS on 127.0.0.1: listen on port 0, close, one HTTPS GET with a client
// certificate (reporting the server serial and resumption), and a refused-handshake probe.
import https from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import tls from 'node:tls';

/** Listens on 127.0.0.1, port 0, and resolves with the port. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface ClientTls {
  cert?: string;
  key?: string;
  ca: string;
  session?: Buffer;
}

export interface Answer {
  status: number;
  body: string;
  serverSerial: string;
  resumed: boolean;
  localPort: number;
  session?: Buffer;
}

/**
 * A keep-alive agent with one socket, for tests that check a connection is pooled and reused.
 * It skips the hostname check itself: Node 22 and later never pool a socket whose request passed its
 * own `checkServerIdentity` (that socket could otherwise serve a request with a different check), so
 * that option must live on the agent, not on each request.
 */
export function keepAliveAgent(): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets: 1, checkServerIdentity: () => undefined });
}

/**
 * One HTTPS GET verifying the server against `ca` (no hostname: the tests' server certificates are
 * SPIFFE-only, and this helper is not under test), over a fresh TLS connection, or over `agent`'s
 * pool when one is given (make it with {@link keepAliveAgent}).
 */
export async function get(
  port: number,
  path: string,
  client: ClientTls,
  agent?: https.Agent,
): Promise<Answer> {
  return await new Promise<Answer>((resolve, reject) => {
    let session: Buffer | undefined;
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: agent ?? false,
        cert: client.cert,
        key: client.key,
        ca: client.ca,
        // With an agent, the agent skips the hostname check (see keepAliveAgent).
        ...(agent ? {} : { checkServerIdentity: () => undefined, session: client.session }),
        timeout: 5000,
      },
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const serverSerial = socket.getPeerX509Certificate()?.serialNumber ?? '';
        const resumed = socket.isSessionReused();
        const localPort = socket.localPort ?? 0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, serverSerial, resumed, localPort, session }),
        );
      },
    );
    req.on('socket', (socket) =>
      socket.on('session', (s: Buffer) => {
        session = s;
      }),
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.end();
  });
}

/** Resolves with the error a TLS connection ends with, or rejects if it stays open and usable. */
export async function handshakeError(port: number, client: ClientTls): Promise<Error & { code?: string }> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: client.cert,
      key: client.key,
      ca: client.ca,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connection was not refused'));
    }, 5000);
    socket.on('secureConnect', () => {
      // TLS 1.3: the server's verdict on our certificate arrives after our side of the handshake; ask something.
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    socket.on('data', () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error('server answered instead of refusing the handshake'));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Object.assign(new Error('closed without an answer'), { code: 'ECLOSED' }));
    });
  });
}

/** Resolves as `promise` does, or rejects after `ms` naming what did not happen. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
