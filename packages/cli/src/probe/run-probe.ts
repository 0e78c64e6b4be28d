import type { X509Certificate } from 'node:crypto';
import { identityFromCertificate, MeshlessError } from '@meshless/core';
import { expiryPhrase } from '../format/duration.js';
import { isClientCertificateRefusal, probeFailure } from './classify.js';
import type { ClientIdentity } from './client-identity.js';
import { type ConnectionResult, connect } from './connection.js';
import type { ProbeTarget } from './target.js';

/** What `meshless probe` is asked to do. */
export interface ProbeOptions {
  target: ProbeTarget;
  /** The trust bundle, as PEM, and the file it came from. */
  ca?: { file: string; pem: string };
  client?: ClientIdentity;
  expectId?: string;
  timeoutMs: number;
}

/** One certificate of the server's chain, as the probe reports it. */
export interface ChainEntry {
  subject: string;
  issuer: string;
  spiffeId: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  fingerprint256: string;
  /** Hex, as OpenSSL prints it: what changes when the certificate is renewed. */
  serialNumber: string;
  notAfter: Date;
  validity: string;
}

/** Everything the probe found; also its `--json` shape. */
export interface ProbeReport {
  ok: boolean;
  target: string;
  tls: {
    version: string | null;
    cipher: string | null;
    connectMs: number | null;
    handshakeMs: number | null;
  } | null;
  server: {
    spiffeId: string | null;
    subject: string | null;
    serialNumber: string | null;
    fingerprint256: string | null;
    chain: ChainEntry[];
  } | null;
  /** How the server was authenticated: its SPIFFE ID (`--expect-id`) or its host name. */
  verification: { by: 'spiffe-id' | 'hostname'; expected: string; trustBundle: string };
  http: { status: string | null; note: string | null } | null;
  resumption: { resumed: boolean | null; note: string } | null;
  clientCertificate: { presented: string | null; demanded: boolean | null; note: string } | null;
  error: { code: string; message: string } | null;
}

/**
 * Probes a TLS server with up to three connections: the main one (with the client certificate,
 * sending `GET path`), one that tries to resume the main one's session, and, when a client
 * certificate was given, one without it to learn whether the server demands one.
 *
 * @example
 * ```ts
 * const report = await runProbe({ target: parseTarget('https://127.0.0.1:8443'), ca, client, timeoutMs: 10_000 });
 * report.clientCertificate?.demanded; // true for a strict meshless server
 * ```
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const { target, client } = options;
  const connectWith = (extra: { client?: ClientIdentity; session?: Buffer; request: boolean }) =>
    connect({
      target,
      ...(options.ca ? { ca: options.ca.pem } : {}),
      ...(options.expectId ? { expectId: options.expectId } : {}),
      timeoutMs: options.timeoutMs,
      ...extra,
    });

  // Parsing the first certificate loads the X.509 parser: do it before timing any handshake.
  const presented = client
    ? (identityFromCertificate(client.leaf).spiffeId?.toString() ?? subjectOf(client.leaf))
    : null;
  if (options.ca) warmUp(options.ca.pem);
  const main = await connectWith({ ...(client ? { client } : {}), request: true });
  const report: ProbeReport = {
    ok: true,
    target: target.url,
    tls: main.protocol
      ? {
          version: main.protocol ?? null,
          cipher: main.cipher ?? null,
          connectMs: round(main.connectMs),
          handshakeMs: round(main.handshakeMs),
        }
      : null,
    server: serverOf(main.chain),
    verification: {
      by: options.expectId ? 'spiffe-id' : 'hostname',
      expected: options.expectId ?? target.host,
      trustBundle: options.ca?.file ?? 'system trust store',
    },
    http: null,
    resumption: null,
    clientCertificate: null,
    error: null,
  };

  const failure = mainFailure(main, options);
  if (failure) {
    report.ok = false;
    report.error = { code: failure.code, message: failure.message };
    if (failure.code === 'ERR_MESHLESS_CLIENT_CERT_REJECTED' && !client) {
      report.clientCertificate = {
        presented: null,
        demanded: true,
        note: 'demanded: the server refused a connection without one',
      };
    }
    return report;
  }

  report.http = {
    status: main.statusLine ?? null,
    note: main.statusLine
      ? null
      : main.timedOut
        ? 'no answer within the timeout (not an HTTP server?)'
        : main.closedWithoutAnswer
          ? 'the server closed the connection without answering'
          : (main.error?.message ?? null),
  };
  report.resumption = await resumption(main, connectWith);
  report.clientCertificate = client
    ? { presented, ...(await demand(connectWith)) }
    : {
        presented: null,
        demanded: main.statusLine ? false : null,
        note: main.statusLine
          ? 'not demanded: the server answered a connection without one'
          : 'unknown: the server did not answer',
      };
  return report;
}

type ConnectWith = (extra: {
  client?: ClientIdentity;
  session?: Buffer;
  request: boolean;
}) => Promise<ConnectionResult>;

// The main connection fails the probe when it did not complete a verified handshake, or when the
// server refused it right after (a TLS 1.3 client certificate refusal arrives on the first read).
function mainFailure(main: ConnectionResult, options: ProbeOptions): MeshlessError | undefined {
  if (main.closedWithoutAnswer) return closedAfterHandshake(options);
  if (!main.error) return undefined;
  const afterAnswer = main.stage === 'exchange' && main.statusLine !== undefined;
  const answerTimeout = main.stage === 'exchange' && main.timedOut;
  if (afterAnswer || answerTimeout) return undefined;
  if (main.stage === 'exchange' && main.error.code === 'ECONNRESET') return closedAfterHandshake(options);
  return probeFailure(main, options.target, {
    presentedCertificate: options.client !== undefined,
    ...(options.ca ? { ca: options.ca.file } : {}),
  });
}

// Node's TLS servers refuse an untrusted client certificate by closing the connection right after
// the handshake, without an alert: an HTTP server that closes without answering a request did that.
function closedAfterHandshake(options: ProbeOptions): MeshlessError {
  const where = `${options.target.host}:${options.target.port}`;
  return new MeshlessError(
    'ERR_MESHLESS_CLIENT_CERT_REJECTED',
    options.client
      ? `${where} closed the connection right after the handshake without answering: it most likely refused our client certificate (does it trust our CA?)`
      : `${where} closed the connection right after the handshake without answering: it most likely demands a client certificate; pass --cert and --key`,
    { host: options.target.host, port: options.target.port, evidence: 'closed-after-handshake' },
  );
}

async function resumption(
  main: ConnectionResult,
  connectWith: ConnectWith,
): Promise<ProbeReport['resumption']> {
  if (!main.session) return { resumed: null, note: 'the server sent no session ticket or session ID' };
  // The same client certificate: a session is bound to the identity it was made with.
  const again = await connectWith({ session: main.session, request: false });
  if (again.error && again.stage !== 'exchange')
    return { resumed: null, note: `the second connection failed: ${again.error.message}` };
  return again.resumed
    ? { resumed: true, note: 'a second connection resumed the session (no certificate exchange)' }
    : {
        resumed: false,
        note: 'a second connection made a full handshake: the server did not resume the session',
      };
}

async function demand(connectWith: ConnectWith): Promise<{ demanded: boolean | null; note: string }> {
  const bare = await connectWith({ request: true });
  if (bare.statusLine !== undefined)
    return {
      demanded: false,
      note: `not demanded: the server answered a connection without one (${bare.statusLine})`,
    };
  if (isClientCertificateRefusal(bare.error))
    return { demanded: true, note: `demanded: a connection without one was refused (${bare.error?.code})` };
  if (bare.stage === 'handshake' && bare.error)
    return {
      demanded: true,
      note: `demanded: a handshake without one failed (${bare.error.code ?? bare.error.message})`,
    };
  if (bare.closedWithoutAnswer || (bare.error?.code === 'ECONNRESET' && bare.stage === 'exchange'))
    return {
      demanded: true,
      note: 'probably demanded: a connection without one was closed without an answer',
    };
  return { demanded: null, note: `unknown: ${bare.error?.message ?? 'no answer'}` };
}

function serverOf(chain: X509Certificate[] | undefined): ProbeReport['server'] {
  if (!chain || chain.length === 0) return null;
  const entries = chain.map((cert): ChainEntry => {
    const identity = identityFromCertificate(cert);
    return {
      subject: identity.subject,
      issuer: identity.issuer,
      spiffeId: identity.spiffeId?.toString() ?? null,
      dnsNames: [...identity.dnsNames],
      ipAddresses: [...identity.ipAddresses],
      fingerprint256: identity.fingerprint256,
      serialNumber: identity.serialNumber,
      notAfter: identity.notAfter,
      validity: expiryPhrase(identity.notBefore, identity.notAfter),
    };
  });
  const leaf = entries[0] as ChainEntry;
  return {
    spiffeId: leaf.spiffeId,
    subject: leaf.subject,
    serialNumber: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256,
    chain: entries,
  };
}

function warmUp(pem: string): void {
  try {
    identityFromCertificate(pem);
  } catch {
    // A bundle that does not parse fails the handshake, which reports it.
  }
}

function subjectOf(cert: X509Certificate): string {
  return identityFromCertificate(cert).subject;
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 100) / 100;
}
