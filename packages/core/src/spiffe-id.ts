import { MeshlessError } from './errors.js';

// The SPIFFE ID grammar, exactly as go-spiffe v2 parses it: no normalisation of any kind.
const SCHEME = 'spiffe://';
const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const PATH_SEGMENT_CHAR = /^[a-zA-Z0-9._-]$/;

type SpiffeIdRule =
  | 'empty'
  | 'scheme'
  | 'trust-domain-missing'
  | 'trust-domain-char'
  | 'path-leading-slash'
  | 'path-empty-segment'
  | 'path-dot-segment'
  | 'path-char'
  | 'path-trailing-slash';

const RULE_MESSAGES: Record<SpiffeIdRule, string> = {
  empty: 'cannot be empty',
  scheme: 'scheme is missing or invalid (it must be exactly "spiffe://")',
  'trust-domain-missing': 'trust domain is missing',
  'trust-domain-char':
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  'path-leading-slash': 'path must have a leading slash',
  'path-empty-segment': 'path cannot contain empty segments',
  'path-dot-segment': 'path cannot contain dot segments',
  'path-char': 'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  'path-trailing-slash': 'path cannot have a trailing slash',
};

function invalidId(rule: SpiffeIdRule, input: string): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_SPIFFE_ID_INVALID',
    `invalid SPIFFE ID ${JSON.stringify(truncate(input))}: ${RULE_MESSAGES[rule]}`,
    { rule, input: truncate(input) },
  );
}

function invalidTrustDomain(rule: SpiffeIdRule, input: string): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_TRUST_DOMAIN_INVALID',
    `invalid trust domain ${JSON.stringify(truncate(input))}: ${RULE_MESSAGES[rule]}`,
    { rule, input: truncate(input) },
  );
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function trustDomainRuleBroken(name: string): SpiffeIdRule | undefined {
  if (name.length === 0) return 'trust-domain-missing';
  for (const char of name) if (!TRUST_DOMAIN_CHAR.test(char)) return 'trust-domain-char';
  return undefined;
}

function pathRuleBroken(path: string): SpiffeIdRule | undefined {
  if (path.length === 0) return undefined;
  if (!path.startsWith('/')) return 'path-leading-slash';
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment.length === 0) return i === segments.length - 1 ? 'path-trailing-slash' : 'path-empty-segment';
    if (segment === '.' || segment === '..') return 'path-dot-segment';
    for (const char of segment) if (!PATH_SEGMENT_CHAR.test(char)) return 'path-char';
  }
  return undefined;
}

/**
 * A SPIFFE trust domain, such as `example.org`.
 *
 * @example
 * ```ts
 * const td = parseTrustDomain('example.org');
 * td.id('ns', 'prod', 'sa', 'web').toString(); // 'spiffe://example.org/ns/prod/sa/web'
 * ```
 */
export class TrustDomain {
  /** The trust domain name, such as `example.org`. */
  readonly name: string;

  /** @internal use {@link parseTrustDomain}. */
  constructor(name: string) {
    this.name = name;
  }

  /** The SPIFFE ID of a workload in this trust domain, built from path segments (each validated). */
  id(...segments: string[]): SpiffeId {
    return parseSpiffeId(`${SCHEME}${this.name}${segments.map((s) => `/${s}`).join('')}`);
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>`. */
  idString(): string {
    return `${SCHEME}${this.name}`;
  }

  equals(other: TrustDomain): boolean {
    return other.name === this.name;
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}

/**
 * A parsed, canonical SPIFFE ID. `String(id)` returns exactly the text it was parsed from.
 *
 * @example
 * ```ts
 * const id = parseSpiffeId('spiffe://example.org/ns/prod/sa/web');
 * id.trustDomain.name;            // 'example.org'
 * id.path;                        // '/ns/prod/sa/web'
 * id.segments();                  // ['ns', 'prod', 'sa', 'web']
 * id.memberOf('example.org');     // true
 * ```
 */
export class SpiffeId {
  readonly trustDomain: TrustDomain;
  /** The path, with its leading slash, or `''` for the trust domain's own ID. */
  readonly path: string;

  /** @internal use {@link parseSpiffeId} or {@link spiffeIdFromSegments}. */
  constructor(trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain;
    this.path = path;
  }

  /** The path segments, without slashes. */
  segments(): string[] {
    return this.path === '' ? [] : this.path.slice(1).split('/');
  }

  /** Whether this ID belongs to the given trust domain (a name, a `TrustDomain`, or a SPIFFE ID string). */
  memberOf(trustDomain: TrustDomain | string): boolean {
    const td = typeof trustDomain === 'string' ? parseTrustDomain(trustDomain) : trustDomain;
    return td.name === this.trustDomain.name;
  }

  equals(other: SpiffeId | string): boolean {
    return String(other) === this.toString();
  }

  toString(): string {
    return `${SCHEME}${this.trustDomain.name}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * Parses a SPIFFE ID strictly, as go-spiffe v2 does: lowercase `spiffe://` scheme, a trust domain of
 * `[a-z0-9._-]`, path segments of `[a-zA-Z0-9._-]`, no empty, `.` or `..` segments, no trailing slash,
 * no percent-encoding, query, fragment, port or userinfo. Nothing is normalised.
 *
 * @throws MeshlessError `ERR_MESHLESS_SPIFFE_ID_INVALID`, whose `context.rule` names the rule broken.
 * @example
 * ```ts
 * parseSpiffeId('spiffe://example.org/ns/prod/sa/web');   // ok
 * parseSpiffeId('spiffe://Example.org/web');              // throws: trust domain characters ...
 * ```
 */
export function parseSpiffeId(text: string): SpiffeId {
  if (typeof text !== 'string' || text.length === 0) throw invalidId('empty', String(text ?? ''));
  if (!text.startsWith(SCHEME)) throw invalidId('scheme', text);
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const name = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const tdRule = trustDomainRuleBroken(name);
  if (tdRule) throw invalidId(tdRule, text);
  const pathRule = pathRuleBroken(path);
  if (pathRule) throw invalidId(pathRule, text);
  return new SpiffeId(new TrustDomain(name), path);
}

/**
 * Parses a trust domain name (`example.org`), or takes the trust domain of a SPIFFE ID
 * (`spiffe://example.org/...`), as go-spiffe's `TrustDomainFromString` does.
 *
 * @throws MeshlessError `ERR_MESHLESS_TRUST_DOMAIN_INVALID`
 * @example
 * ```ts
 * parseTrustDomain('example.org').name;                 // 'example.org'
 * parseTrustDomain('spiffe://example.org/web').name;    // 'example.org'
 * ```
 */
export function parseTrustDomain(text: string): TrustDomain {
  if (typeof text !== 'string' || text.length === 0) throw invalidTrustDomain('trust-domain-missing', '');
  if (text.includes(':/')) {
    try {
      return parseSpiffeId(text).trustDomain;
    } catch (err) {
      const rule = ((err as MeshlessError).context?.rule as SpiffeIdRule | undefined) ?? 'scheme';
      throw invalidTrustDomain(rule, text);
    }
  }
  const rule = trustDomainRuleBroken(text);
  if (rule) throw invalidTrustDomain(rule, text);
  return new TrustDomain(text);
}

/**
 * Builds a SPIFFE ID from a trust domain and path segments, validating each segment.
 *
 * @example
 * ```ts
 * spiffeIdFromSegments('example.org', 'ns', 'prod', 'sa', 'web').toString();
 * // 'spiffe://example.org/ns/prod/sa/web'
 * ```
 */
export function spiffeIdFromSegments(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
  const td = typeof trustDomain === 'string' ? parseTrustDomain(trustDomain) : trustDomain;
  return td.id(...segments);
}
