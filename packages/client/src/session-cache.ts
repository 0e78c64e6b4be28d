import type { PeerIdentity, PeerVerdict } from '@meshless/core';

/** A TLS session the client may resume, and the server identity verified when it was made. */
export interface BoundSession {
  /** The serialized session from the socket's `session` event. */
  readonly session: Buffer;
  /**
   * Who the server was on the full handshake that produced the session (or on the connection that
   * resumed it). A resumed TLS 1.3 session shows the client no server certificate, so this binding
   * is the only way the client can still know, and check, who it is talking to.
   */
  readonly identity: PeerIdentity;
  /** What the full handshake proved of the server's chain: its trust bundle and validity window. */
  readonly verdict: PeerVerdict;
}

/** The default number of origins whose sessions are kept, as undici's `maxCachedSessions`. */
export const DEFAULT_MAX_CACHED_SESSIONS = 100;

/**
 * The client's TLS session cache: one session per connection key (host, port and server name),
 * each bound to the server identity verified when it was made. It is owned by one generation of
 * one agent: a new certificate or another agent never sees these sessions, so a session is never
 * offered to a server it was not verified against, nor resumed under a client certificate other
 * than the one it was made with.
 *
 * undici's own cache is keyed by server name or host only (no port) and holds no identity, so a
 * session from one service would be offered to another on the same host; that is why meshless
 * keeps its own.
 *
 * @example
 * ```ts
 * const sessions = new SessionCache(100);
 * socket.on('session', (session) => sessions.set('10.0.0.7:8443|', { session, identity }));
 * tls.connect({ ...options, session: sessions.get('10.0.0.7:8443|')?.session });
 * ```
 */
export class SessionCache {
  readonly #entries = new Map<string, BoundSession>();
  readonly #max: number;

  constructor(maxEntries: number = DEFAULT_MAX_CACHED_SESSIONS) {
    this.#max = maxEntries;
  }

  /**
   * The session for `key`, or undefined. A session whose bound server certificate has expired is
   * dropped rather than offered: resuming it would keep trusting a certificate past its end.
   */
  get(key: string, now: number = Date.now()): BoundSession | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.verdict.notAfter <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores the newest session for `key`, evicting the least recently stored key when full. */
  set(key: string, entry: BoundSession): void {
    if (this.#max === 0) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, entry);
  }

  /** Forgets the session for `key` (after the server refused to resume it, or it failed a check). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every session. */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * The cache key of a connection: the address and port dialled and the server name sent, so that
 * two services on one host, or one address reached under two names, never share a session.
 */
export function sessionKey(hostname: string, port: number, servername: string | undefined): string {
  return `${hostname}:${port}|${servername ?? ''}`;
}
