import {
  type ApplicationTlsOptions,
  applicationTlsOptions,
  assertKnownOptions,
  assertOptionsObject,
  type CertificateSource,
  CLIENT_TLS_OPTION_KEYS,
  describeValue,
  invalidOption,
  MeshlessError,
  refusedOption,
  TRUST_BYPASSING_TLS_OPTIONS,
} from '@meshless/core';
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
  /**
   * Socket options (keep-alive, server name, address family, ...) and the TLS options meshless
   * carries into every connection's secure context (`crl`, `ciphers`, `minVersion`, `maxVersion`,
   * `ecdhCurve`, `sigalgs`, `secureOptions`; never weaker than the defaults); never trust settings.
   */
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
  /** The application's TLS options, checked once, for every secure context of the agent. */
  tls: Readonly<ApplicationTlsOptions>;
  /** Options for each inner undici Agent, without `connect`. */
  agent: Omit<Agent.Options, 'connect'>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const WHERE = 'createAgent';

// undici Agent, Pool and Client options that meshless passes on to its inner agents.
const UNDICI_KEYS = [
  'interceptors',
  'maxOrigins',
  'connections',
  'maxHeaderSize',
  'headersTimeout',
  'connectTimeout',
  'bodyTimeout',
  'keepAliveTimeout',
  'keepAliveMaxTimeout',
  'keepAliveTimeoutThreshold',
  'pipelining',
  'strictContentLength',
  'maxCachedSessions',
  'maxRequestsPerClient',
  'localAddress',
  'maxResponseSize',
  'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout',
  'allowH2',
  'maxConcurrentStreams',
  'initialWindowSize',
  'connectionWindowSize',
  'pingInterval',
] as const;

const TOP_LEVEL_KEYS = [
  'source',
  'authorizeServer',
  'authorizeServerByOrigin',
  'maxConnectionAgeMs',
  'connect',
  ...UNDICI_KEYS,
];

// Socket options (node:net and node:tls) the connector passes on to tls.connect as they are.
const SOCKET_KEYS = [
  'servername',
  'family',
  'hints',
  'localAddress',
  'localPort',
  'lookup',
  'noDelay',
  'keepAlive',
  'keepAliveInitialDelay',
  'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout',
  'highWaterMark',
  'minDHSize',
];

const CONNECT_KEYS = [...SOCKET_KEYS, 'timeout', 'maxCachedSessions', ...CLIENT_TLS_OPTION_KEYS];

// Options undici or node:tls would take at the top level, that meshless refuses there with a reason.
const REFUSED_TOP_LEVEL: Readonly<Record<string, string>> = {
  factory: 'meshless builds the connection pools itself',
  clientTtl: 'use maxConnectionAgeMs',
  socketPath: 'meshless connects over TCP to the host of each URL',
  rejectUnauthorized: "meshless always verifies the server chain against the source's trust bundle",
  checkServerIdentity: 'use authorizeServer to choose which servers to accept',
  ca: 'certificates, keys and the trust bundle come from the source',
  cert: 'certificates, keys and the trust bundle come from the source',
  key: 'certificates, keys and the trust bundle come from the source',
  pfx: 'certificates, keys and the trust bundle come from the source',
  passphrase: 'certificates, keys and the trust bundle come from the source',
  secureContext: 'meshless builds the secure context from the source',
  tls: 'TLS options go under connect',
  servername: 'socket options go under connect',
};

/**
 * Checks the options of {@link createAgent}. Bad options are programming errors, thrown when the
 * agent is built as a MeshlessError with code `ERR_MESHLESS_INVALID_OPTION` that names the option:
 * unknown keys, keys meshless manages (`rejectUnauthorized`, `ca`, `cert`, `key`,
 * `checkServerIdentity`, ... at the top level or under `connect`) and TLS options weaker than
 * meshless's defaults are refused, never ignored.
 *
 * @example
 * ```ts
 * normalizeOptions({ source, authorizeServer: 'spiffe://example.org/orders' }).policy?.expected;
 * ```
 */
export function normalizeOptions(options: ClientOptions): NormalizedOptions {
  assertOptionsObject(WHERE, options);
  const all = options as unknown as Record<string, unknown>;
  for (const [key, why] of Object.entries(REFUSED_TOP_LEVEL)) {
    if (key in all) throw refusedOption(WHERE, key, why);
  }
  for (const key of [...CLIENT_TLS_OPTION_KEYS, ...Object.keys(TRUST_BYPASSING_TLS_OPTIONS)]) {
    if (key in all) throw refusedOption(WHERE, key, `TLS options go under connect ({ connect: { ${key} } })`);
  }
  assertKnownOptions(WHERE, options, TOP_LEVEL_KEYS);
  const { source, authorizeServer, authorizeServerByOrigin, maxConnectionAgeMs, connect, ...agent } = options;
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw invalidOption(
      WHERE,
      'source',
      source,
      'a CertificateSource (from @meshless/core, @meshless/watcher or @meshless/spiffe)',
    );
  }
  if (
    typeof connect === 'function' ||
    (connect !== undefined && (typeof connect !== 'object' || connect === null))
  ) {
    throw invalidOption(
      WHERE,
      'connect',
      connect,
      'an options object (meshless makes the TLS connections itself)',
    );
  }
  const connectOptions = (connect ?? {}) as Record<string, unknown>;
  for (const key of MANAGED_TLS_OPTIONS) {
    if (key in connectOptions) throw refusedOption(WHERE, `connect.${key}`, managedReason(key));
  }
  const tls = applicationTlsOptions(`${WHERE}: connect`, connectOptions, CLIENT_TLS_OPTION_KEYS);
  assertKnownOptions(`${WHERE}: connect`, connectOptions, CONNECT_KEYS);
  const { timeout, maxCachedSessions, ...rest } = connectOptions as NonNullable<ClientOptions['connect']>;
  const socket = withoutKeys(rest, CLIENT_TLS_OPTION_KEYS) as SocketOptions;
  if (maxConnectionAgeMs !== undefined && !(Number.isFinite(maxConnectionAgeMs) && maxConnectionAgeMs > 0)) {
    throw invalidOption(WHERE, 'maxConnectionAgeMs', maxConnectionAgeMs, 'a positive number of milliseconds');
  }
  const sessions = maxCachedSessions ?? agent.maxCachedSessions ?? DEFAULT_MAX_CACHED_SESSIONS;
  if (!Number.isInteger(sessions) || sessions < 0)
    throw invalidOption(WHERE, 'maxCachedSessions', sessions, 'an integer >= 0');
  if (authorizeServer !== undefined && authorizeServerByOrigin !== undefined)
    throw refusedOption(
      WHERE,
      'authorizeServerByOrigin',
      'give authorizeServer or authorizeServerByOrigin, not both',
    );
  const connectTimeout = timeout ?? agent.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!(Number.isFinite(connectTimeout) && connectTimeout > 0))
    throw invalidOption(WHERE, 'connectTimeout', connectTimeout, 'a positive number of milliseconds');
  return {
    source,
    policy: authorizeServer === undefined ? undefined : serverPolicyOption(authorizeServer),
    byOrigin: authorizeServerByOrigin === undefined ? undefined : originPolicies(authorizeServerByOrigin),
    allowH2: agent.allowH2 ?? false,
    connectTimeout,
    maxCachedSessions: sessions,
    socket,
    tls,
    agent: { ...agent, ...(maxConnectionAgeMs !== undefined ? { clientTtl: maxConnectionAgeMs } : {}) },
  };
}

function withoutKeys(object: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const copy = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

function serverPolicyOption(value: ServerAuthorization): ServerPolicy {
  try {
    return serverPolicy(value);
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${WHERE}: authorizeServer must be an authorizer function or one or more SPIFFE IDs; got ${describeValue(value)}: ${(cause as Error).message}`,
      { input: 'authorizeServer', actual: describeValue(value) },
      cause,
    );
  }
}

function managedReason(key: string): string {
  if (key === 'rejectUnauthorized') return 'meshless always verifies the server chain';
  if (key === 'checkServerIdentity') return 'use authorizeServer';
  if (['ca', 'cert', 'key', 'pfx', 'passphrase', 'secureContext'].includes(key)) {
    return 'certificates, keys and the trust bundle come from the source';
  }
  if (key in TRUST_BYPASSING_TLS_OPTIONS) return TRUST_BYPASSING_TLS_OPTIONS[key] ?? 'it bypasses meshless';
  return 'it is managed by meshless';
}
