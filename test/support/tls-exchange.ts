// One request over one TLS connection made by hand, reporting everything an attack test asks of it:
// whether the session was resumed, the HTTP status (if any answer came), and the sessions the server
// handed out, even on a connection it then closed. It never rejects: a refusal is an outcome.
import http2 from 'node:http2';
import tls from 'node:tls';

export interface ExchangeOptions {
  cert?: string;
  key?: string;
  ca: string;
  session?: Buffer;
  maxVersion?: tls.SecureVersion;
  /** The client's cipher list; an attacker may lower OpenSSL's security level to present weak keys. */
  ciphers?: string;
  /** Speak HTTP/2 (ALPN h2) instead of HTTP/1.1. */
  h2?: boolean;
  /** Check the server certificate's identity; by default nothing (the chain is still verified). */
  checkServerIdentity?: tls.ConnectionOptions['checkServerIdentity'];
}

export interface Exchange {
  /** The HTTP status, or undefined when the connection ended without an answer. */
  status: number | undefined;
  body: string;
  resumed: boolean | undefined;
  /** The last session the server handed out on this connection. */
  session: Buffer | undefined;
  error: (Error & { code?: string }) | undefined;
}

/** Connects to 127.0.0.1:`port`, sends `GET /`, and reports what happened (5 s at most). */
export async function exchange(port: number, options: ExchangeOptions): Promise<Exchange> {
  return await new Promise<Exchange>((resolve) => {
    const outcome: Exchange = {
      status: undefined,
      body: '',
      resumed: undefined,
      session: undefined,
      error: undefined,
    };
    let settled = false;
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: options.cert,
      key: options.key,
      ca: options.ca,
      session: options.session,
      maxVersion: options.maxVersion,
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      ALPNProtocols: options.h2 ? ['h2'] : ['http/1.1'],
      checkServerIdentity: options.checkServerIdentity ?? (() => undefined),
    });
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error && !outcome.error) outcome.error = error;
      socket.destroy();
      // Late tickets arrive in the same tick as the close; let them land.
      setImmediate(() => resolve(outcome));
    };
    const timer = setTimeout(() => finish(new Error('no answer within 5 s')), 5000);
    socket.on('session', (session: Buffer) => {
      outcome.session = session;
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish());
    socket.once('secureConnect', () => {
      outcome.resumed = socket.isSessionReused();
      if (options.h2) requestH2(socket, outcome, finish);
      else requestH1(socket, outcome, finish);
    });
  });
}

function requestH1(socket: tls.TLSSocket, outcome: Exchange, finish: (e?: Error) => void): void {
  socket.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (status) outcome.status = Number(status[1]);
    const split = text.indexOf('\r\n\r\n');
    if (split >= 0) outcome.body = text.slice(split + 4);
  });
  socket.on('end', () => finish());
}

function requestH2(socket: tls.TLSSocket, outcome: Exchange, finish: (e?: Error) => void): void {
  const session = http2.connect('https://localhost', { createConnection: () => socket });
  session.on('error', (error) => finish(error));
  const stream = session.request({ ':path': '/' });
  stream.setEncoding('utf8');
  stream.on('response', (headers) => {
    outcome.status = Number(headers[':status']);
  });
  stream.on('data', (chunk: string) => {
    outcome.body += chunk;
  });
  stream.on('error', (error) => finish(error));
  stream.on('close', () => {
    session.close();
    finish();
  });
}
