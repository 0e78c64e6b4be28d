import { MeshlessError, optionError } from '@meshless/core';
import type { buildConnector } from 'undici';
import { type ServerAuthorization, type ServerPolicy, serverPolicy } from './server-policy.js';

/**
 * The server expected at each origin: a map (or plain object) from an `https:` origin such as
 * `https://orders.prod.svc:8443` to a {@link ServerAuthorization} (SPIFFE IDs or an authorizer).
 *
 * @example
 * ```ts
 * const byOrigin: ServerAuthorizationByOrigin = {
 *   'https://orders.prod.svc:8443': 'spiffe://example.org/ns/prod/sa/orders',
 *   'https://billing.prod.svc:8443': authorize.pattern('spiffe://example.org/ns/prod/sa/billing-*'),
 * };
 * ```
 */
export type ServerAuthorizationByOrigin =
  | Readonly<Record<string, ServerAuthorization>>
  | ReadonlyMap<string, ServerAuthorization>;

/** The normalized form: the server policy of each canonical origin (`URL.origin`). */
export type OriginPolicies = ReadonlyMap<string, ServerPolicy>;

/**
 * Checks `authorizeServerByOrigin` and normalizes its keys to `URL.origin` (lower-case host, no
 * default port), so `https://Orders:443` and `https://orders` are one origin.
 *
 * @throws MeshlessError `ERR_MESHLESS_INVALID_OPTION` for an empty map, a key that is not an `https:` origin alone (no path, query,
 * credentials), the same origin twice, or an invalid authorization.
 * @example
 * ```ts
 * originPolicies({ 'https://orders:443': 'spiffe://example.org/orders' }).has('https://orders'); // true
 * ```
 */
export function originPolicies(value: ServerAuthorizationByOrigin): OriginPolicies {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw optionError(byOriginMessage('must be a Map or an object from origins to server authorizations'));
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  if (entries.length === 0) throw optionError(byOriginMessage('names no origin'));
  const policies = new Map<string, ServerPolicy>();
  for (const [key, authorization] of entries) {
    const origin = canonicalOrigin(key);
    if (policies.has(origin)) throw optionError(byOriginMessage(`names ${origin} twice`));
    try {
      policies.set(origin, serverPolicy(authorization as ServerAuthorization));
    } catch (cause) {
      throw optionError(byOriginMessage(`${key}: ${(cause as Error).message}`), 'authorizeServerByOrigin');
    }
  }
  return policies;
}

function canonicalOrigin(key: unknown): string {
  let url: URL;
  try {
    url = new URL(String(key));
  } catch {
    throw optionError(
      byOriginMessage(`${String(key)} is not an origin such as https://orders.prod.svc:8443`),
    );
  }
  if (url.protocol !== 'https:')
    throw optionError(
      byOriginMessage(`${String(key)}: only https: origins (meshless speaks mutual TLS only)`),
    );
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== ''))
    throw optionError(
      byOriginMessage(`${String(key)} is more than an origin: give scheme, host and port only`),
    );
  return url.origin;
}

function byOriginMessage(problem: string): string {
  return `createAgent: authorizeServerByOrigin ${problem}`;
}

/**
 * The policy for the origin undici is about to connect to, or `undefined` when none is configured.
 *
 * @example
 * ```ts
 * policyForOrigin(policies, new URL('https://orders.prod.svc:8443'));
 * ```
 */
export function policyForOrigin(policies: OriginPolicies, origin: string | URL): ServerPolicy | undefined {
  return policies.get(new URL(String(origin)).origin);
}

/**
 * A connector for an origin without a configured server policy: every connection attempt fails at
 * once with `ERR_MESHLESS_ORIGIN_NOT_CONFIGURED`, before any socket is opened (fail closed: the
 * client certificate is never shown to a server nobody said what to expect from).
 *
 * @example
 * ```ts
 * new Pool(origin, { connect: refuseUnconfiguredOrigin(origin, policies) });
 * ```
 */
export function refuseUnconfiguredOrigin(
  origin: string | URL,
  policies: OriginPolicies,
): buildConnector.connector {
  const asked = new URL(String(origin)).origin;
  const configured = [...policies.keys()];
  return (_params, callback) => {
    callback(
      new MeshlessError(
        'ERR_MESHLESS_ORIGIN_NOT_CONFIGURED',
        `no expected server identity for ${asked}: authorizeServerByOrigin names only ${configured.join(', ')}`,
        { origin: asked, expected: configured.join(', ') },
      ),
      null,
    );
  };
}
