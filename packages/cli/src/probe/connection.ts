import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { identityFromCertificate, MeshlessError, secureTlsDefaults } from '@meshless/core';
import { VERSION } from '../version.js';
import type { ClientIdentity } from './client-identity.js';
import type { ProbeTarget } from './target.js';

/** How to make one probe connection. */
export interface ConnectionOptions {
  target: ProbeTarget;
  /** The trust bundle to verify the server with; the system roots when absent. */
  ca?: string;
  /** The client certificate to present; none when absent. */
  client?: ClientIdentity;
  /** A session from an earlier connection, to try resuming. */
  session?: Buffer;
  /** Check the server's SPIFFE ID instead of its host name. */
  expectId?: string;
  /** Send an HTTP request and wait for the answer (or the server's refusal). */
  request: boolean;
  timeoutMs: number;
}

/** What one connection saw. It never throws: failures are in `error` with the stage they hit. */
export interface ConnectionResult {
  stage: 'connect' | 'handshake' | 'exchange' | 'done';
  error?: Error & { code?: string };
  timedOut: boolean;
  connectMs?: number;
  handshakeMs?: number;
  protocol?: string;
  cipher?: string;
  resumed?: boolean;
  /** The server's chain as verified, leaf first (absent on a resumed session, which sends none). */
  chain?: X509Certificate[];
  /** The last TLS session the server gave (a TLS 1.3 ticket or a TLS 1.2 session). */
  session?: Buffer;
  /** The HTTP status line of the answer. */
  statusLine?: string;
  /** The server closed the connection after the handshake without sending anything. */
  closedWithoutAnswer?: boolean;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Makes one TLS connection the way a meshless client would (secure defaults, full verification:
 * the server chain is always verified against the trust bundle), timing the TCP connect and the handshake, recording the
 * verified server chain, and optionally sending `GET path` to see whether the server answers.
 * With `expectId`, the server's SPIFFE ID replaces the host name check, inside the handshake.
 *
 * @example
 * ```ts
 * const first = await connect({ target, ca, client, request: true, timeoutMs: 10_000 });
 * const again = await connect({ target, ca, client, session: first.session, request: false, timeoutMs: 10_000 });
 * again.resumed; // true when the server resumed the session
 * ```
 */
export function connect(options: ConnectionOptions): Promise<ConnectionResult> {
  const { target } = options;
  return new Promise((resolve) => {
    const result: ConnectionResult = { stage: 'connect', timedOut: false };
    const started = performance.now();
    let answer = '';
    let received = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error && !result.error) result.error = error;
      if (!error && result.stage === 'exchange') result.stage = 'done';
      if (options.request && result.stage === 'done' && received === 0 && !result.error)
        result.closedWithoutAnswer = true;
      socket.destroy();
      resolve(result);
    };
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      ...(target.isIp ? {} : { servername: target.host }),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.client ? { cert: options.client.certPem, key: options.client.keyPem } : {}),
      ...(options.session ? { session: options.session } : {}),
      minVersion: secureTlsDefaults.minVersion,
      maxVersion: secureTlsDefaults.maxVersion,
      ciphers: secureTlsDefaults.ciphers,
      ecdhCurve: secureTlsDefaults.ecdhCurve,
      rejectUnauthorized: true,
      checkServerIdentity: (hostname, cert) => {
        result.chain = chainOf(cert);
        return options.expectId
          ? checkSpiffeId(options.expectId, cert)
          : tls.checkServerIdentity(hostname, cert);
      },
    });
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, options.timeoutMs);
    socket.once('connect', () => {
      result.connectMs = performance.now() - started;
      result.stage = 'handshake';
    });
    socket.on('session', (session: Buffer) => {
      result.session = session;
    });
    socket.once('secureConnect', () => {
      result.handshakeMs = performance.now() - started - (result.connectMs ?? 0);
      result.protocol = socket.getProtocol() ?? undefined;
      result.cipher = socket.getCipher()?.standardName ?? socket.getCipher()?.name;
      result.resumed = socket.isSessionReused();
      result.stage = 'exchange';
      if (!options.request) {
        socket.end();
        return;
      }
      socket.write(httpRequest(target));
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (result.statusLine === undefined) {
        answer += chunk.toString('latin1');
        const end = answer.indexOf('\r\n');
        if (end !== -1 || answer.length > 1024) result.statusLine = answer.slice(0, end === -1 ? 1024 : end);
      }
      if (received > MAX_ANSWER_BYTES) finish();
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish());
  });
}

function httpRequest(target: ProbeTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return [
    `GET ${target.path || '/'} HTTP/1.1`,
    `Host: ${host}:${target.port}`,
    `User-Agent: meshless-probe/${VERSION}`,
    'Accept: */*',
    'Connection: close',
    '',
    '',
  ].join('\r\n');
}

// The chain OpenSSL verified, from the detailed peer certificate: leaf first; a self-signed root
// is its own issuer, which ends the walk.
function chainOf(cert: tls.PeerCertificate | tls.DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: tls.PeerCertificate | undefined = cert;
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(new X509Certificate(current.raw));
    current = (current as tls.DetailedPeerCertificate).issuerCertificate;
  }
  return chain;
}

function checkSpiffeId(expected: string, cert: tls.PeerCertificate): Error | undefined {
  let actual: string | undefined;
  try {
    actual = identityFromCertificate(cert.raw).spiffeId?.toString();
  } catch {
    actual = undefined;
  }
  if (actual === expected) return undefined;
  return new MeshlessError(
    'ERR_MESHLESS_SERVER_UNAUTHORIZED',
    actual
      ? `the server is ${actual}, not the expected ${expected}`
      : `the server certificate has no SPIFFE ID; expected ${expected}`,
    { expected, ...(actual ? { actual, spiffeId: actual } : {}) },
  );
}
