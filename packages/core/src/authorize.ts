import { MeshlessError } from './errors.js';
import type { PeerIdentity } from './identity.js';
import {
  assertKnownOptions,
  assertOptionsObject,
  describeValue,
  invalidOption,
  optionError,
} from './options.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId, type TrustDomain } from './spiffe-id.js';

/** What an authorizer decided, with a reason short enough for a log line or an HTTP body. */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly reason: string;
  /**
   * `false` when the decision was made in audit mode ({@link authorize.audit}): the peer is allowed,
   * and `wouldAllow` says what enforcement would have decided.
   */
  readonly enforced?: boolean;
  readonly wouldAllow?: boolean;
}

/** What an audit-mode authorizer reports for each decision it did not enforce. */
export interface AuditRecord {
  readonly peer: PeerIdentity | undefined;
  /** What enforcement would have decided. */
  readonly wouldAllow: boolean;
  readonly reason: string;
}

/**
 * Decides whether a peer may proceed. `undefined` means there is no verified peer; every
 * authorizer denies it. Plain functions, so they compose and are easy to write by hand.
 */
export type Authorizer = (peer: PeerIdentity | undefined) => AuthorizationDecision;

const allow = (reason: string): AuthorizationDecision => Object.freeze({ allowed: true, reason });
const deny = (reason: string): AuthorizationDecision => Object.freeze({ allowed: false, reason });
const NO_PEER = deny('no verified peer certificate');
const NO_SPIFFE_ID = deny('peer certificate has no SPIFFE ID');

function toId(value: SpiffeId | string, where: string): SpiffeId {
  try {
    return typeof value === 'string' ? parseSpiffeId(value) : parseSpiffeId(String(value));
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${where}: ${(cause as Error).message}; got ${describeValue(value)}`,
      { actual: describeValue(value) },
      cause,
    );
  }
}

function requireSome<T>(values: T[], where: string): void {
  // An empty list would either allow nothing (useless) or, for allOf, everything (dangerous).
  if (values.length === 0) throw optionError(`${where} needs at least one argument`);
}

/**
 * Allows any peer that presented a verified certificate. Use it on purpose: it authorizes every
 * workload the trust bundle vouches for.
 *
 * @example
 * ```ts
 * createServer({ source, authorize: authorize.any() }, app);
 * ```
 */
function any(): Authorizer {
  return (peer) => (peer ? allow('any verified peer is allowed') : NO_PEER);
}

/**
 * Allows exactly the given SPIFFE IDs (one or more).
 *
 * @example
 * ```ts
 * authorize.id('spiffe://example.org/ns/prod/sa/orders')
 * ```
 */
function id(...ids: (SpiffeId | string)[]): Authorizer {
  requireSome(ids, 'authorize.id');
  const allowed = new Set(ids.map((value) => toId(value, 'authorize.id').toString()));
  return (peer) => {
    if (!peer) return NO_PEER;
    if (!peer.spiffeId) return NO_SPIFFE_ID;
    const actual = peer.spiffeId.toString();
    return allowed.has(actual)
      ? allow(`${actual} is allowed`)
      : deny(`${actual} is not an allowed SPIFFE ID`);
  };
}

/**
 * Allows any one of a list of SPIFFE IDs (same as {@link id} with several arguments).
 *
 * @example
 * ```ts
 * authorize.oneOf('spiffe://example.org/orders', 'spiffe://example.org/billing')
 * ```
 */
function oneOf(...ids: (SpiffeId | string)[]): Authorizer {
  requireSome(ids, 'authorize.oneOf');
  return id(...ids);
}

/**
 * Allows every SPIFFE ID of a trust domain.
 *
 * @example
 * ```ts
 * authorize.memberOf('example.org')
 * ```
 */
function memberOf(trustDomain: TrustDomain | string): Authorizer {
  let td: TrustDomain;
  try {
    td = typeof trustDomain === 'string' ? parseTrustDomain(trustDomain) : trustDomain;
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `authorize.memberOf: ${(cause as Error).message}`,
      { actual: describeValue(trustDomain) },
      cause,
    );
  }
  return (peer) => {
    if (!peer) return NO_PEER;
    if (!peer.spiffeId) return NO_SPIFFE_ID;
    return peer.spiffeId.memberOf(td)
      ? allow(`${peer.spiffeId} is a member of ${td.name}`)
      : deny(`${peer.spiffeId} is not a member of ${td.name}`);
  };
}

type PatternSegment = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'rest' };

function compilePattern(glob: string): { trustDomain: string; segments: PatternSegment[] } {
  const fail = (why: string) => optionError(`authorize.pattern(${JSON.stringify(glob)}): ${why}`);
  if (typeof glob !== 'string' || !glob.startsWith('spiffe://'))
    throw fail('a pattern starts with spiffe://');
  const rest = glob.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  if (slash === -1) throw fail('a pattern needs a path; use authorize.memberOf for a whole trust domain');
  const trustDomain = rest.slice(0, slash);
  try {
    parseTrustDomain(trustDomain);
  } catch (cause) {
    throw fail(
      `the trust domain is invalid (${(cause as Error).message}); wildcards are only allowed in the path`,
    );
  }
  const parts = rest.slice(slash + 1).split('/');
  const segments = parts.map((part, index): PatternSegment => {
    if (part === '**') {
      if (index !== parts.length - 1) throw fail('** may only be the last segment');
      return { kind: 'rest' };
    }
    if (part === '*') return { kind: 'one' };
    if (part.includes('*')) throw fail(`"${part}": * stands for a whole segment, never part of one`);
    try {
      parseSpiffeId(`spiffe://${trustDomain}/${part}`);
    } catch (cause) {
      throw fail((cause as Error).message);
    }
    return { kind: 'literal', text: part };
  });
  return { trustDomain, segments };
}

function matchesPattern(
  compiled: { trustDomain: string; segments: PatternSegment[] },
  id: SpiffeId,
): boolean {
  if (id.trustDomain.name !== compiled.trustDomain) return false;
  const actual = id.segments();
  const { segments } = compiled;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as PatternSegment;
    if (segment.kind === 'rest') return actual.length > i;
    const value = actual[i];
    if (value === undefined) return false;
    if (segment.kind === 'literal' && segment.text !== value) return false;
  }
  return actual.length === segments.length;
}

/**
 * Allows SPIFFE IDs matching a pattern: `*` matches exactly one path segment, `**` (last only) one or
 * more remaining segments. Wildcards never match part of a segment, so `/sa/web` never matches
 * `/sa/webhook`, and the trust domain is always literal.
 *
 * @example
 * ```ts
 * authorize.pattern('spiffe://example.org/ns/prod/sa/*')  // every service account in ns/prod
 * authorize.pattern('spiffe://example.org/ns/prod/**')    // everything under ns/prod
 * ```
 */
function pattern(glob: string): Authorizer {
  const compiled = compilePattern(glob);
  return (peer) => {
    if (!peer) return NO_PEER;
    if (!peer.spiffeId) return NO_SPIFFE_ID;
    return matchesPattern(compiled, peer.spiffeId)
      ? allow(`${peer.spiffeId} matches ${glob}`)
      : deny(`${peer.spiffeId} does not match ${glob}`);
  };
}

/**
 * Allows a peer that at least one of the authorizers allows.
 *
 * @example
 * ```ts
 * authorize.anyOf(authorize.id('spiffe://example.org/admin'), authorize.pattern('spiffe://example.org/ns/prod/*'))
 * ```
 */
function anyOf(...authorizers: Authorizer[]): Authorizer {
  requireSome(authorizers, 'authorize.anyOf');
  assertFunctions(authorizers, 'authorize.anyOf');
  return (peer) => {
    const denials: string[] = [];
    for (const authorizer of authorizers) {
      const decision = authorizer(peer);
      if (decision.allowed) return decision;
      denials.push(decision.reason);
    }
    return deny([...new Set(denials)].join('; '));
  };
}

/**
 * Allows a peer only when every authorizer allows it.
 *
 * @example
 * ```ts
 * authorize.allOf(authorize.memberOf('example.org'), authorize.pattern('spiffe://example.org/ns/prod/**'))
 * ```
 */
function allOf(...authorizers: Authorizer[]): Authorizer {
  requireSome(authorizers, 'authorize.allOf');
  assertFunctions(authorizers, 'authorize.allOf');
  return (peer) => {
    let last: AuthorizationDecision = NO_PEER;
    for (const authorizer of authorizers) {
      last = authorizer(peer);
      if (!last.allowed) return last;
    }
    return last;
  };
}

/**
 * Audit mode: wraps an authorizer so that every peer is allowed, while the decision enforcement
 * would have taken is recorded (in the returned decision, on the `meshless:authorization`
 * diagnostics channel through the server or middleware that asked, and through `onDecision`). Lets
 * a team see who would be refused before refusing anyone, like Linkerd's audit policy.
 *
 * @example
 * ```ts
 * const policy = authorize.audit(authorize.id('spiffe://example.org/ns/prod/sa/orders'), {
 *   onDecision: (record) => { if (!record.wouldAllow) log.warn('would deny', record.reason); },
 * });
 * createServer({ source, authorize: policy }, app);
 * ```
 */
function audit(
  authorizer: Authorizer,
  options: { onDecision?: (record: AuditRecord) => void } = {},
): Authorizer {
  assertFunctions([authorizer], 'authorize.audit');
  assertOptionsObject('authorize.audit', options);
  assertKnownOptions('authorize.audit', options, ['onDecision']);
  const { onDecision } = options;
  if (onDecision !== undefined && typeof onDecision !== 'function')
    throw invalidOption('authorize.audit', 'onDecision', onDecision, 'a function');
  return (peer) => {
    const decision = authorizer(peer);
    onDecision?.({ peer, wouldAllow: decision.allowed, reason: decision.reason });
    return Object.freeze({
      allowed: true,
      reason: decision.allowed ? decision.reason : `audit: would deny: ${decision.reason}`,
      enforced: false,
      wouldAllow: decision.allowed,
    });
  };
}

function assertFunctions(authorizers: unknown[], where: string): void {
  if (authorizers.some((a) => typeof a !== 'function'))
    throw optionError(`${where} takes authorizer functions, such as authorize.id('spiffe://...')`);
}

/**
 * The built-in authorizers. Nothing is allowed unless an authorizer says so.
 *
 * @example
 * ```ts
 * import { authorize } from '@meshless/core';
 * const policy = authorize.anyOf(
 *   authorize.id('spiffe://example.org/ns/prod/sa/orders'),
 *   authorize.pattern('spiffe://example.org/ns/ops/**'),
 * );
 * policy(peer); // { allowed: true, reason: '... is allowed' }
 * ```
 */
export const authorize = Object.freeze({ any, id, oneOf, memberOf, pattern, anyOf, allOf, audit });
