import diagnostics from 'node:diagnostics_channel';
import {
  type Authorizer,
  authorize,
  channels,
  MeshlessError,
  optionError,
  type PeerIdentity,
  type SpiffeId,
} from '@meshless/core';
import type { ConnectionContext } from './tls-errors.js';

/** Which servers the client accepts: an authorizer, or the SPIFFE ID(s) expected. */
export type ServerAuthorization = Authorizer | string | SpiffeId | readonly (string | SpiffeId)[];

/** The normalized form of {@link ServerAuthorization}: the check and, when known, what it expects. */
export interface ServerPolicy {
  readonly authorize: Authorizer;
  /** The expected SPIFFE IDs, when the policy was given as IDs (for error messages). */
  readonly expected?: readonly string[];
}

/**
 * Normalizes `authorizeServer`: SPIFFE IDs become `authorize.id(...)`, whose expected IDs are kept
 * so that a refusal can say what was expected and what was found.
 *
 * @throws MeshlessError `ERR_MESHLESS_INVALID_OPTION` for an invalid SPIFFE ID or a value that is neither
 * an authorizer nor IDs.
 * @example
 * ```ts
 * serverPolicy('spiffe://example.org/ns/prod/sa/orders').expected; // ['spiffe://example.org/ns/prod/sa/orders']
 * ```
 */
export function serverPolicy(value: ServerAuthorization): ServerPolicy {
  if (typeof value === 'function') return { authorize: value };
  const ids = (Array.isArray(value) ? value : [value]) as (string | SpiffeId)[];
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' && typeof id?.toString !== 'function')) {
    throw optionError(
      'authorizeServer must be an authorizer function or one or more SPIFFE IDs',
      'authorizeServer',
    );
  }
  const check = authorize.id(...ids); // throws ERR_MESHLESS_INVALID_OPTION for an invalid ID
  return { authorize: check, expected: Object.freeze(ids.map(String)) };
}

/**
 * Runs the server policy on the identity of a server and returns it when allowed; otherwise throws
 * `ERR_MESHLESS_SERVER_UNAUTHORIZED` with what was expected and what was found. Every decision is
 * published on the `meshless:server-verification` diagnostics channel.
 *
 * @example
 * ```ts
 * const identity = checkServer(policy, identityFromCertificate(cert.raw), { address: '10.0.0.7:8443' }, false);
 * ```
 */
export function checkServer(
  policy: ServerPolicy,
  identity: PeerIdentity,
  where: ConnectionContext,
  resumed: boolean,
): PeerIdentity {
  // authorizeServer replaces the host name check with a SPIFFE check: a server without a SPIFFE ID is
  // refused whatever the authorizer (even authorize.any()), or nothing would be checked at all.
  const decision = identity.spiffeId
    ? policy.authorize(identity)
    : { allowed: false, reason: 'the server certificate has no SPIFFE ID, which authorizeServer requires' };
  const actual = identity.spiffeId?.toString();
  const expected = policy.expected?.join(', ');
  publishVerification({
    decision: decision.allowed ? 'allow' : 'deny',
    reason: decision.reason,
    expected,
    actual,
    resumed,
    address: where.address,
    peer: identity,
  });
  if (decision.allowed) return identity;
  const found = actual
    ? `server ID ${actual}`
    : `a certificate without a SPIFFE ID (subject "${identity.subject}")`;
  throw new MeshlessError(
    'ERR_MESHLESS_SERVER_UNAUTHORIZED',
    `the server at ${where.address} is not allowed: expected ${expected ?? 'a server the authorizeServer policy allows'}, found ${found} (${decision.reason})${resumed ? ' on a resumed TLS session' : ''}`,
    {
      ...where,
      resumed,
      reason: decision.reason,
      expected,
      actual: actual ?? identity.subject,
      spiffeId: actual,
      fingerprint: identity.fingerprint256,
      subject: identity.subject,
    },
  );
}

/** Publishes a server verification message, when anyone listens. */
export function publishVerification(message: {
  decision: 'allow' | 'deny';
  reason: string;
  expected?: string | undefined;
  actual?: string | undefined;
  resumed: boolean;
  address: string;
  peer?: PeerIdentity;
}): void {
  const channel = diagnostics.channel(channels.serverVerification);
  if (channel.hasSubscribers) channel.publish(message);
}
