import type { CertificateSource } from '@meshless/core';
import type { Agent } from 'undici';
import { MANAGED_TLS_OPTIONS, type SocketOptions } from './connector.js';
import { type OriginPolicies, originPolicies, type ServerAuthorizationByOrigin } from './origin-policies.js';
import { type ServerAuthorization, type ServerPolicy, serverPolicy } from './server-policy.js';
import { DEFAULT_MAX_CACHED_SESSIONS } from './session-cache.js';

/**
 * Options of {@link createAgent}: a certificate source, an optional server policy, and undici
 * `Agent` options (except `connect` as a function and `factory`: meshless owns the connections).
 */
export interface ClientOptions extends Omit<Agent.Options, 'connect' | 'factory' | 'clientTtl'> {
  /** Where the client certificate, its key and the trust bundle come from; rotation follows its `update` event. */
  source: CertificateSource;
  /**
   * Which servers to accept, by SPIFFE ID: one ID, a list of IDs, or an authorizer from
   * `@meshless/core` (`authorize.memberOf('example.org')`, `authorize.pattern(...)`). It replaces the
   * host name check. Without it, the server certificate must name the host in the URL, as in HTTPS.
   */
  authorizeServer?: ServerAuthorization;
  /**
   * The server expected at each origin, for an agent that calls several services: a map from an
   * origin (`https://orders.prod.svc:8443`) to SPIFFE IDs or an authorizer. A request to an origin
   * not in the map fails with `ERR_MESHLESS_ORIGIN_NOT_CONFIGURED` before any connection is made.
   * Give this or `authorizeServer`, not both.
   */
  authorizeServerByOrigin?: ServerAuthorizationByOrigin;
  /**
   * The age after which a pooled connection takes no new requests and is closed once its running
   * requests finish, in milliseconds. Unset: connections live until idle or until rotation.
   */
  maxConnectionAgeMs?: number;
  /** Socket options (keep-alive, server name, address family, ...); never trust settings. */
  connect?: SocketOptions & { timeout?: number; maxCachedSessions?: number };
}

/** {@link ClientOptions} checked and split into what the connector and the undici agents need. */
export interface NormalizedOptions {
  source: CertificateSource;
  policy: ServerPolicy | undefined;
  /** The policy of each origin, with `authorizeServerByOrigin`; it then replaces `policy`. */
  byOrigin: OriginPolicies | undefined;
  allowH2: boolean;
  connectTimeout: number;
  maxCachedSessions: number;
  socket: SocketOptions;
  /** Options for each inner undici Agent, without `connect`. */
  agent: Omit<Agent.Options, 'connect'>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Checks the options of {@link createAgent}. Bad options are programming errors: a TypeError
 * that names the option, thrown when the agent is built.
 *
 * @example
 * ```ts
 * normalizeOptions({ source, authorizeServer: 'spiffe://example.org/orders' }).policy?.expected;
 * ```
 */
export function normalizeOptions(options: ClientOptions): NormalizedOptions {
  if (!options || typeof options !== 'object')
    throw new TypeError('createAgent expects an options object with a source');
  const { source, authorizeServer, authorizeServerByOrigin, maxConnectionAgeMs, connect, ...agent } = options;
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw new TypeError(
      'createAgent: source must be a CertificateSource (from @meshless/core or @meshless/watcher)',
    );
  }
  for (const refused of ['factory', 'clientTtl'] as const) {
    if (refused in agent)
      throw new TypeError(
        `createAgent: ${refused} is not supported; meshless builds the connection pools itself`,
      );
  }
  if (typeof connect === 'function') {
    throw new TypeError(
      'createAgent: connect must be an options object; meshless makes the TLS connections itself',
    );
  }
  const { timeout, maxCachedSessions, ...socket } = (connect ?? {}) as NonNullable<ClientOptions['connect']>;
  for (const key of MANAGED_TLS_OPTIONS) {
    if (key in socket) throw new TypeError(managedMessage(key));
  }
  if (maxConnectionAgeMs !== undefined && !(Number.isFinite(maxConnectionAgeMs) && maxConnectionAgeMs > 0)) {
    throw new TypeError('createAgent: maxConnectionAgeMs must be a positive number of milliseconds');
  }
  const sessions = maxCachedSessions ?? agent.maxCachedSessions ?? DEFAULT_MAX_CACHED_SESSIONS;
  if (!Number.isInteger(sessions) || sessions < 0)
    throw new TypeError('createAgent: maxCachedSessions must be an integer >= 0');
  if (authorizeServer !== undefined && authorizeServerByOrigin !== undefined)
    throw new TypeError('createAgent: give authorizeServer or authorizeServerByOrigin, not both');
  const connectTimeout = timeout ?? agent.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!(Number.isFinite(connectTimeout) && connectTimeout > 0))
    throw new TypeError('createAgent: connectTimeout must be a positive number');
  return {
    source,
    policy: authorizeServer === undefined ? undefined : serverPolicyOption(authorizeServer),
    byOrigin: authorizeServerByOrigin === undefined ? undefined : originPolicies(authorizeServerByOrigin),
    allowH2: agent.allowH2 ?? false,
    connectTimeout,
    maxCachedSessions: sessions,
    socket,
    agent: { ...agent, ...(maxConnectionAgeMs !== undefined ? { clientTtl: maxConnectionAgeMs } : {}) },
  };
}

function serverPolicyOption(value: ServerAuthorization): ServerPolicy {
  try {
    return serverPolicy(value);
  } catch (cause) {
    throw new TypeError(`createAgent: authorizeServer: ${(cause as Error).message}`, { cause });
  }
}

function managedMessage(key: string): string {
  if (key === 'rejectUnauthorized') {
    return 'createAgent: connect.rejectUnauthorized is not an option: meshless always verifies the server chain';
  }
  if (key === 'checkServerIdentity')
    return 'createAgent: connect.checkServerIdentity is not supported; use authorizeServer';
  if (['ca', 'cert', 'key', 'pfx', 'passphrase', 'secureContext'].includes(key)) {
    return `createAgent: connect.${key} is not supported; certificates, keys and the trust bundle come from the source`;
  }
  return `createAgent: connect.${key} is managed by meshless and cannot be set`;
}
