import type { EventEmitter } from 'node:events';
import type { TlsMaterial } from '@meshless/core';
import { Agent, Dispatcher, Pool } from 'undici';
import { createConnector } from './connector.js';
import { type ClientOptions, type NormalizedOptions, normalizeOptions } from './options.js';
import { policyForOrigin, refuseUnconfiguredOrigin } from './origin-policies.js';
import { SessionCache } from './session-cache.js';

type Callback = (err: Error | null, data: null) => void;

/** One certificate generation: the undici agent whose connections present one material. */
interface Generation {
  readonly agent: Agent;
  readonly material: TlsMaterial;
  readonly sessions: SessionCache;
}

const FORWARDED_EVENTS = ['connect', 'disconnect', 'connectionError', 'drain'] as const;

/**
 * An undici dispatcher for mutual TLS: each connection presents the certificate source's current
 * certificate and verifies the server; when the source rotates, new requests go to fresh
 * connections with the new certificate while the old connections finish their requests and close.
 * Use it wherever undici takes a dispatcher: `request(url, { dispatcher })`,
 * `fetch(url, { dispatcher })`, `setGlobalDispatcher(agent)`. Build it with {@link createAgent}.
 *
 * Internally it routes to one undici `Agent` per certificate generation, so it is a `Dispatcher`
 * (with the same events and `close()`/`destroy()` as an `Agent`) rather than an `instanceof Agent`.
 *
 * @example
 * ```ts
 * import { request } from 'undici';
 * const agent = createAgent({ source, authorizeServer: 'spiffe://example.org/ns/prod/sa/orders' });
 * const { statusCode, body } = await request('https://orders.prod.svc:8443/v1/orders', { dispatcher: agent });
 * ```
 */
export class MeshlessAgent extends Dispatcher {
  readonly #options: NormalizedOptions;
  #current: Generation;
  #generations = 0;
  /** Old generations still closing, and the promises of their closing. */
  readonly #retiring = new Set<Promise<void>>();
  readonly #retiringAgents = new Set<Agent>();
  readonly #onUpdate = () => this.#rotate();
  #closed = false;
  #destroyed = false;

  constructor(options: ClientOptions) {
    super();
    this.#options = normalizeOptions(options);
    this.#current = this.#generation();
    this.#options.source.on('update', this.#onUpdate);
  }

  /** Sends a request on a connection of the current certificate generation. */
  override dispatch(options: Agent.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#current.agent.dispatch(options, handler);
  }

  /** The material that new connections present. */
  get material(): TlsMaterial {
    return this.#current.material;
  }

  /** How many times the agent moved to new material (0 before the first rotation). */
  get rotations(): number {
    return this.#generations - 1;
  }

  /** Statistics of the current generation's pools, by origin (as undici's `Agent.stats`). */
  get stats(): Agent['stats'] {
    return this.#current.agent.stats;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Waits for every running request, then closes every connection, old generations included. */
  override close(): Promise<void>;
  override close(callback: Callback): void;
  override close(callback?: Callback): Promise<void> | void {
    const done = this.#shutdown(() => this.#current.agent.close());
    if (!callback) return done;
    done.then(
      () => callback(null, null),
      (err: Error) => callback(err, null),
    );
  }

  /** Fails every running and queued request with `err` and closes every connection at once. */
  override destroy(err?: Error | null): Promise<void>;
  override destroy(callback: Callback): void;
  override destroy(err: Error | null, callback: Callback): void;
  override destroy(errOrCallback?: Error | null | Callback, callback?: Callback): Promise<void> | void {
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    this.#destroyed = true;
    const done = this.#shutdown(
      () => this.#current.agent.destroy(err),
      (old) => old.destroy(err),
    );
    if (!cb) return done;
    done.then(
      () => cb(null, null),
      (e: Error) => cb(e, null),
    );
  }

  async #shutdown(current: () => Promise<void>, old?: (agent: Agent) => Promise<void>): Promise<void> {
    this.#closed = true;
    this.#options.source.off('update', this.#onUpdate);
    if (old) for (const agent of this.#retiringAgents) await old(agent).catch(() => {});
    await current();
    await Promise.all(this.#retiring);
  }

  /**
   * Moves new requests to a new generation and closes the old one gracefully: undici's
   * `Agent.close()` lets running and queued requests finish before it closes their connections.
   * The old generation's TLS sessions go with it, so no session made under the old certificate is
   * ever resumed: the server sees the new certificate on every new connection.
   */
  #rotate(): void {
    if (this.#closed) return;
    const previous = this.#current;
    this.#current = this.#generation();
    this.#retiringAgents.add(previous.agent);
    const closing = previous.agent
      .close()
      .catch(() => {})
      .finally(() => {
        this.#retiring.delete(closing);
        this.#retiringAgents.delete(previous.agent);
      });
    this.#retiring.add(closing);
  }

  #generation(): Generation {
    const options = this.#options;
    const material = options.source.current();
    const sessions = new SessionCache(options.maxCachedSessions);
    const connectorWith = (policy: NormalizedOptions['policy']) =>
      createConnector({
        material: () => options.source.current(),
        policy,
        sessions,
        allowH2: options.allowH2,
        timeout: options.connectTimeout,
        socket: options.socket,
        tls: options.tls,
      });
    const connect = connectorWith(options.policy);
    const { byOrigin } = options;
    // Always a Pool (undici picks a Client for connections: 1), so that maxConnectionAgeMs,
    // undici's clientTtl, applies whatever the number of connections. With expectations per
    // origin, each origin's pool gets a connector with its own policy (undici keeps one pool per origin).
    const agent = new Agent({
      ...options.agent,
      connect,
      factory: (origin, opts) => {
        if (!byOrigin) return new Pool(origin, opts);
        const policy = policyForOrigin(byOrigin, origin);
        const perOrigin = policy ? connectorWith(policy) : refuseUnconfiguredOrigin(origin, byOrigin);
        return new Pool(origin, { ...opts, connect: perOrigin });
      },
    });
    // Agent's typed overloads take one event name at a time; forward all four as plain events.
    const inner = agent as unknown as EventEmitter;
    const outer = this as unknown as EventEmitter;
    for (const event of FORWARDED_EVENTS) {
      inner.on(event, (origin: URL, targets: Dispatcher[], err?: Error) => {
        outer.emit(event, origin, [this, ...targets.slice(1)], err);
      });
    }
    this.#generations += 1;
    return { agent, material, sessions };
  }
}

/**
 * Creates a {@link MeshlessAgent}: an undici dispatcher that presents the source's current
 * certificate, verifies the server (by SPIFFE ID with `authorizeServer`, else by host name, and on
 * resumed TLS sessions too), and rotates without failing a request.
 *
 * @example
 * ```ts
 * import { authorize, loadMaterial, staticSource } from '@meshless/core';
 * import { createAgent } from '@meshless/client';
 * import { request } from 'undici';
 *
 * const agent = createAgent({
 *   source: staticSource(loadMaterial({ cert, key, ca })),
 *   authorizeServer: authorize.pattern('spiffe://example.org/ns/prod/sa/*'),
 *   maxConnectionAgeMs: 10 * 60_000,
 * });
 * const res = await request('https://10.0.0.7:8443/health', { dispatcher: agent });
 * ```
 */
export function createAgent(options: ClientOptions): MeshlessAgent {
  return new MeshlessAgent(options);
}
