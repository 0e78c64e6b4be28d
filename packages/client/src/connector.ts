import net from 'node:net';
import tls, { type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import {
  type ApplicationTlsOptions,
  assertVerdictCurrent,
  isMeshlessError,
  MeshlessError,
  type PeerIdentity,
  type PeerVerdict,
  secureTlsDefaults,
  type TlsMaterial,
  trustedRootsPem,
  trustHashOf,
} from '@meshless/core';
import { type buildConnector, errors } from 'undici';
import { serverIdentity } from './server-identity.js';
import { checkServer, publishVerification, type ServerPolicy } from './server-policy.js';
import { serverVerdict } from './server-verdict.js';
import { type BoundSession, type SessionCache, sessionKey } from './session-cache.js';
import {
  type ConnectionContext,
  isConnectionClosed,
  silentRejection,
  toMeshlessError,
} from './tls-errors.js';

/** Socket options a user may pass through `connect`; everything that decides trust is meshless's. */
export type SocketOptions = Omit<tls.ConnectionOptions, (typeof MANAGED_TLS_OPTIONS)[number]> & {
  /** TCP keep-alive, on by default as in undici. */
  keepAlive?: boolean;
  /** Delay before the first keep-alive probe, in milliseconds (default 60 000). */
  keepAliveInitialDelay?: number;
};

/**
 * TLS options meshless sets itself: identity and trust come from the certificate source, server
 * checks from `authorizeServer`, sessions from the identity-bound cache. Passing one of them throws
 * `ERR_MESHLESS_INVALID_OPTION` rather than being silently ignored. (Versions, ciphers, `crl`, ...
 * are the application's, checked and carried into every secure context: `CLIENT_TLS_OPTION_KEYS`.)
 */
export const MANAGED_TLS_OPTIONS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'secureContext',
  'checkServerIdentity',
  'session',
  'rejectUnauthorized',
  'ALPNProtocols',
  'secureProtocol',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'pskCallback',
  'requestCert',
  'SNICallback',
  'enableTrace',
  'socket',
  'host',
  'port',
  'path',
] as const;

/** What one generation of an agent connects with. */
export interface ConnectorOptions {
  /** Called for each new connection: the certificate source's current material. */
  material: () => TlsMaterial;
  /** The server check; without one, the usual hostname check applies. */
  policy: ServerPolicy | undefined;
  sessions: SessionCache;
  allowH2: boolean;
  /** Milliseconds for TCP connect plus TLS handshake (undici's `connectTimeout`). */
  timeout: number;
  socket: SocketOptions;
  /** The application's TLS options (`crl`, `minVersion`, ...), applied to every secure context. */
  tls?: Readonly<ApplicationTlsOptions>;
}

const contextsByOptions = new WeakMap<object, WeakMap<TlsMaterial, SecureContext>>();
const NO_APPLICATION_TLS: Readonly<ApplicationTlsOptions> = Object.freeze({});

/**
 * One secure context per material and application TLS options: building one parses the key and
 * chain, so do it once. The application's options (checked when the agent was built) go into every
 * context, so a rotation never drops them.
 */
function contextFor(material: TlsMaterial, applicationTls = NO_APPLICATION_TLS): SecureContext {
  let contexts = contextsByOptions.get(applicationTls);
  if (!contexts) {
    contexts = new WeakMap();
    contextsByOptions.set(applicationTls, contexts);
  }
  let context = contexts.get(material);
  if (!context) {
    context = tls.createSecureContext({
      ...secureTlsDefaults,
      ...applicationTls,
      cert: material.certPem,
      key: material.keyPem,
      // With federated bundles, every trust domain's roots; the server is then checked against its
      // own trust domain's bundle in #checkFullHandshake.
      ca: trustedRootsPem(material),
    });
    contexts.set(material, context);
  }
  return context;
}

/**
 * Builds the undici connector of a meshless agent: the one place where its TLS connections are
 * made. Each connection presents the source's current certificate, verifies the server chain
 * against the source's trust bundle, checks the server's SPIFFE ID (or host name) on full
 * handshakes and, because Node skips `checkServerIdentity` on resumption, checks the identity bound
 * to the session on resumed ones, refusing a resumed session whose identity it does not know.
 * Failures reach undici as {@link MeshlessError}s.
 *
 * @example
 * ```ts
 * const connect = createConnector({ material: () => source.current(), policy, sessions, allowH2: false, timeout: 10_000, socket: {} });
 * const agent = new Agent({ connect });
 * ```
 */
export function createConnector(options: ConnectorOptions): buildConnector.connector {
  return (params, callback) => {
    if (params.protocol !== 'https:') {
      callback(
        new MeshlessError(
          'ERR_MESHLESS_PLAINTEXT_REFUSED',
          `refusing to connect to ${params.protocol}//${params.host ?? params.hostname}: a meshless client only speaks mutual TLS; use an https: URL`,
          { actual: params.protocol, expected: 'https:' },
        ),
        null,
      );
      return;
    }
    new Connection(options, params, callback).start();
  };
}

/** The life of one connection attempt, from dialling to handing the socket to undici. */
class Connection {
  readonly #options: ConnectorOptions;
  readonly #params: buildConnector.Options;
  #callback: buildConnector.Callback | undefined;
  #where: ConnectionContext;
  readonly #key: string;
  readonly #offered: BoundSession | undefined;
  readonly #material: TlsMaterial;
  readonly #servername: string | undefined;
  #verified: PeerIdentity | undefined;
  /** What the full handshake proved of the server's chain, bound to the sessions it makes. */
  #verdict: PeerVerdict | undefined;
  #pendingSession: Buffer | undefined;
  #stage: 'tcp' | 'handshake' | 'established' = 'tcp';
  /** Whether the server sent anything after the handshake: proof it accepted our certificate. */
  #answered = false;
  /** The negotiated TLS version, read at the handshake (the handle may be gone when errors come). */
  #protocol: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #socket!: TLSSocket;

  constructor(options: ConnectorOptions, params: buildConnector.Options, callback: buildConnector.Callback) {
    this.#options = options;
    this.#params = params;
    this.#callback = callback;
    const port = Number(params.port) || 443;
    const hostname = params.hostname;
    // SNI carries names only; an IP address is never sent as a server name (RFC 6066).
    const requested = params.servername || options.socket.servername;
    this.#servername = requested || (net.isIP(hostname) ? undefined : hostname);
    this.#material = options.material();
    // The session is per address, server name and client certificate: a session made under an
    // older certificate would show the server that certificate again on resumption.
    this.#key = `${sessionKey(hostname, port, this.#servername)}|${this.#material.contentHash}`;
    this.#offered = options.sessions.get(this.#key);
    this.#where = {
      address: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
      ...(this.#servername ? { servername: this.#servername } : {}),
      sessionOffered: this.#offered !== undefined,
    };
  }

  start(): void {
    const { socket: extra, allowH2, timeout } = this.#options;
    const { keepAlive, keepAliveInitialDelay, ...socketOptions } = extra;
    const socket = tls.connect({
      ...socketOptions,
      secureContext: contextFor(this.#material, this.#options.tls),
      servername: this.#servername,
      session: this.#offered?.session,
      ALPNProtocols: allowH2 ? ['http/1.1', 'h2'] : ['http/1.1'],
      host: this.#params.hostname,
      port: Number(this.#params.port) || 443,
      ...(this.#params.localAddress ? { localAddress: this.#params.localAddress } : {}),
      ...(this.#params.httpSocket ? { socket: this.#params.httpSocket } : {}),
      // Chain verification by OpenSSL is never optional.
      rejectUnauthorized: true,
      checkServerIdentity: (name, cert) => this.#checkFullHandshake(name, cert),
    });
    this.#socket = socket;
    if (this.#params.httpSocket) this.#stage = 'handshake';
    if (keepAlive !== false) socket.setKeepAlive(true, keepAliveInitialDelay ?? 60_000);
    socket.setNoDelay(true);
    this.#timer = setTimeout(() => this.#onTimeout(), timeout);
    socket
      .once('connect', () => {
        this.#stage = 'handshake';
      })
      .once('secureConnect', () => this.#onSecureConnect())
      .on('session', (session: Buffer) => this.#onSession(session))
      .on('error', (error: Error) => this.#fail(error));
  }

  /**
   * Node calls this on full handshakes only, after OpenSSL verified the chain. Returning an error
   * makes Node destroy the socket with it, before any request is written.
   */
  #checkFullHandshake(name: string, cert: PeerCertificate): Error | undefined {
    try {
      const identity = serverIdentity(cert);
      // What OpenSSL does not check: the X509-SVID profile, the key policy, the trust domain (with
      // federated bundles OpenSSL verified against their union: b.org's CA must not vouch for a.org).
      this.#verdict = serverVerdict(this.#material, cert);
      const where = { ...this.#where, resumed: false };
      const { policy } = this.#options;
      if (policy) {
        // The SPIFFE check replaces the host name check: SPIFFE certificates often carry no DNS
        // name, and services are often called by IP address.
        this.#verified = checkServer(policy, identity, where, false);
        return undefined;
      }
      const mismatch = tls.checkServerIdentity(name, cert);
      publishVerification({
        decision: mismatch ? 'deny' : 'allow',
        reason: mismatch ? mismatch.message : `certificate names ${name}`,
        expected: name,
        actual: identity.spiffeId?.toString() ?? identity.subject,
        resumed: false,
        address: where.address,
        peer: identity,
      });
      if (mismatch) return toMeshlessError(mismatch, { ...where, servername: name }, 'handshake');
      this.#verified = identity;
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  #onSecureConnect(): void {
    const socket = this.#socket;
    this.#where = { ...this.#where, resumed: socket.isSessionReused() };
    if (socket.isSessionReused()) {
      try {
        this.#verified = this.#checkResumed();
      } catch (error) {
        this.#options.sessions.delete(this.#key);
        this.#fail(error as Error);
        return;
      }
    }
    if (!this.#verified) {
      // Unreachable with Node's handshake flow; refuse rather than hand over an unchecked socket.
      this.#fail(this.#unknownIdentity('the server identity was not verified on this connection'));
      return;
    }
    this.#stage = 'established';
    this.#protocol = socket.getProtocol();
    clearTimeout(this.#timer);
    if (this.#pendingSession) this.#onSession(this.#pendingSession);
    this.#watchForAnswer();
    // The first TLS failure explains what follows: an alert is followed by the end of the stream,
    // which undici reports as a new error that would otherwise replace the alert.
    let explained: MeshlessError | undefined;
    translateLaterErrors(socket, (error) => {
      if (explained && isConnectionClosed(error)) return explained;
      const mapped =
        !this.#answered && this.#silenceMeansRejection() && isConnectionClosed(error)
          ? silentRejection(error as Error, this.#where)
          : toMeshlessError(error, this.#where, 'established');
      if (isMeshlessError(mapped)) explained ??= mapped;
      return mapped;
    });
    const callback = this.#callback;
    this.#callback = undefined;
    callback?.(null, socket);
  }

  /**
   * A resumed session shows no server certificate (TLS 1.3), and Node skipped checkServerIdentity:
   * the server is who it was on the full handshake that made the session, and that identity is
   * checked again against the policy. A session whose identity is unknown is refused.
   */
  #checkResumed(): PeerIdentity {
    const bound = this.#offered?.identity;
    if (!bound)
      throw this.#unknownIdentity(
        'the server resumed a TLS session this client holds no verified identity for',
      );
    // The leaf alone (getPeerCertificate(false)): getPeerX509Certificate() leaks the presented
    // intermediates on Node 20 (see docs/performance.md, memory under connection churn).
    const presented = this.#socket.getPeerCertificate(false) as { fingerprint256?: string } | null;
    if (presented?.fingerprint256 && presented.fingerprint256 !== bound.fingerprint256) {
      throw this.#unknownIdentity(
        `the resumed session shows certificate ${presented.fingerprint256}, not the ${bound.fingerprint256} verified when it was made`,
      );
    }
    // The session was made under this very material (the session key holds its hash); its chain may
    // have expired since.
    const verdict = this.#offered?.verdict;
    if (!verdict || verdict.trust !== trustHashOf(this.#material))
      throw this.#unknownIdentity('the resumed session was not verified under the current trust bundle');
    try {
      assertVerdictCurrent(verdict, bound.subject);
    } catch (error) {
      publishVerification({
        decision: 'deny',
        reason: (error as Error).message,
        resumed: true,
        address: this.#where.address,
        peer: bound,
      });
      throw error;
    }
    const where = { ...this.#where, resumed: true };
    const { policy } = this.#options;
    if (policy) return checkServer(policy, bound, where, true);
    // The session key holds the server name, so the host name was checked against this very name.
    publishVerification({
      decision: 'allow',
      reason: 'resumed a session verified for this host name',
      expected: this.#servername ?? this.#params.hostname,
      actual: bound.spiffeId?.toString() ?? bound.subject,
      resumed: true,
      address: where.address,
      peer: bound,
    });
    return bound;
  }

  #unknownIdentity(why: string): MeshlessError {
    publishVerification({ decision: 'deny', reason: why, resumed: true, address: this.#where.address });
    return new MeshlessError(
      'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN',
      `refusing the connection to ${this.#where.address}: ${why}; the session is dropped and the next connection makes a full handshake`,
      { ...this.#where, resumed: true },
    );
  }

  /**
   * A server that accepted our certificate says something after the handshake: a TLS 1.3 session
   * ticket at once, or a response. HTTP/1.1 data is watched through 'readable' (the listener reads
   * nothing, so undici's reading is untouched); HTTP/2 hands the socket's handle to nghttp2, so for
   * it only the ticket is seen.
   */
  #watchForAnswer(): void {
    const socket = this.#socket;
    if (socket.alpnProtocol === 'h2') return;
    const onReadable = () => {
      if (socket.readableLength > 0) {
        this.#answered = true;
        socket.off('readable', onReadable);
      }
    };
    socket.on('readable', onReadable);
  }

  /**
   * Whether a close before any answer can be read as a refusal of our certificate: on TLS 1.3, a
   * server that accepted sends tickets right away; on TLS 1.2 the tickets come before the client's
   * handshake ends, so only HTTP/1.1 data (which HTTP/2 hides) can tell.
   */
  #silenceMeansRejection(): boolean {
    return this.#protocol === 'TLSv1.3' || this.#socket.alpnProtocol !== 'h2';
  }

  /** Sessions are stored only once the server identity they belong to is verified. */
  #onSession(session: Buffer): void {
    if (this.#stage === 'established') this.#answered = true;
    if (!this.#verified) {
      // TLS 1.2 delivers the ticket before the handshake completes and the server is checked.
      this.#pendingSession = session;
      return;
    }
    this.#pendingSession = undefined;
    const verdict = this.#verdict ?? this.#offered?.verdict;
    if (!verdict) return;
    this.#options.sessions.set(this.#key, { session, identity: this.#verified, verdict });
  }

  #onTimeout(): void {
    const where = this.#stage === 'tcp' ? 'to connect' : 'for the TLS handshake';
    const timeout = new errors.ConnectTimeoutError(
      `timed out after ${this.#options.timeout} ms waiting ${where} (${this.#where.address})`,
    );
    this.#socket.destroy(
      this.#stage === 'handshake' ? toMeshlessError(timeout, this.#where, 'handshake') : timeout,
    );
  }

  #fail(error: Error): void {
    clearTimeout(this.#timer);
    const callback = this.#callback;
    if (!callback) return;
    this.#callback = undefined;
    // A failure before TCP connected (refused, unreachable, DNS) is a plain network error, kept as
    // it is so that retry logic keyed on its code still works; from the handshake on, it is TLS's.
    const mapped = this.#stage === 'tcp' ? error : toMeshlessError(error, this.#where, 'handshake');
    if (!this.#socket.destroyed) this.#socket.destroy();
    callback(mapped, null);
  }
}

/**
 * After the handshake, the socket belongs to undici, which reads errors from its 'error' event.
 * With TLS 1.3 a server that refuses our certificate says so only after the client finished its
 * handshake, in an alert read with the first response: this replaces such errors, as they are
 * emitted, by the MeshlessError that explains them (the original stays as `cause`).
 */
function translateLaterErrors(socket: TLSSocket, translate: (error: unknown) => unknown): void {
  const original = socket.emit as (this: TLSSocket, event: string | symbol, ...args: unknown[]) => boolean;
  // Every event of the socket passes here ('readable', 'data', 'drain' for each response), so the
  // wrapper allocates nothing: 'error' carries one argument, every other event goes on with the
  // `arguments` it came with (no rest array, no spread copy).
  // A method of an object literal, so that its name is `emit` whatever a bundler renames: when V8
  // formats a stack trace through this frame (Node's streams read `err.stack` of each error a
  // socket is destroyed with, such as undici's 'reset' on every closing connection), a function
  // whose name matches the property takes the fast path instead of a search of every property of
  // the socket and its prototypes.
  const wrapper = {
    emit(this: TLSSocket, event: string | symbol, error?: unknown): boolean {
      if (event === 'error') return original.call(this, event, translate(error));
      // biome-ignore lint/complexity/noArguments: forwards every argument without an array per event
      return Reflect.apply(original, this, arguments) as boolean;
    },
  };
  socket.emit = wrapper.emit as typeof socket.emit;
}
