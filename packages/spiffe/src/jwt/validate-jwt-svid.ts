import { DEFAULT_CLOCK_SKEW_MS, MeshlessError, parseSpiffeId, type SpiffeId } from '@meshless/core';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWK,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { isJwtSvidAlgorithm, type JwtSvidAlgorithm, keyFitsAlgorithm } from './algorithms.js';
import type { JwtBundleSource } from './bundle-source.js';
import type { JwtBundle } from './jwt-bundle.js';
import type { JwtSvid } from './jwt-svid.js';

/**
 * Options of {@link validateJwtSvid}.
 *
 * @example
 * ```ts
 * const options: ValidateJwtSvidOptions = { audience: 'spiffe://example.org/orders', bundles };
 * ```
 */
export interface ValidateJwtSvidOptions {
  /** The audience this validator identifies as; the token's `aud` must contain it. */
  audience: string;
  /** The JWT bundles, by trust domain; the token is checked against its own trust domain's only. */
  bundles: JwtBundleSource;
  /** The time to judge `exp` and `nbf` against. Default: now. */
  now?: () => Date;
  /** Leeway for clocks that disagree, applied to `exp` and `nbf`, in milliseconds. Default 60 000. */
  clockSkewMs?: number;
}

const TYPES = new Set(['JWT', 'JOSE']);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Validates a JWT-SVID locally, as the JWT-SVID specification and the SPIFFE conformance catalogue's
 * JV and JB groups demand: a compact JWS; `alg` one of {@link JWT_SVID_ALGORITHMS} and fitting the
 * key; `typ` `JWT`, `JOSE` or absent; no `crit`; `sub` a SPIFFE ID whose trust domain has a JWT
 * bundle; the key chosen by `kid` in that bundle only (a token without `kid` is tried against each
 * key of the bundle); the signature (by panva's `jose`); `aud` present and containing `audience`;
 * `exp` present and not passed; `nbf`, when present, reached.
 *
 * @throws MeshlessError `ERR_MESHLESS_JWT_SVID_INVALID`; `context.rule` says which check failed.
 * @example
 * ```ts
 * const bundles = await workloadApiJwtBundles();
 * const svid = await validateJwtSvid(bearerToken, { audience: 'spiffe://example.org/orders', bundles });
 * svid.spiffeId.toString(); // 'spiffe://example.org/ns/prod/sa/web'
 * ```
 */
export async function validateJwtSvid(token: string, options: ValidateJwtSvidOptions): Promise<JwtSvid> {
  checkOptions(options);
  const header = readHeader(token);
  const claims = readClaims(token);
  const spiffeId = subjectOf(claims);
  const bundle = options.bundles.bundleFor(spiffeId.trustDomain.name);
  if (!bundle) {
    throw invalid('no-bundle', `no JWT bundle for the trust domain ${spiffeId.trustDomain.name}`, spiffeId);
  }
  const payload = await verifyWithBundle(token, header, bundle, spiffeId, options);
  return svidOf(token, spiffeId, payload);
}

function checkOptions(options: ValidateJwtSvidOptions): void {
  if (!options || typeof options !== 'object')
    throw new TypeError('validateJwtSvid: options must be an object');
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('validateJwtSvid: audience must be a non-empty string');
  }
  if (!options.bundles || typeof options.bundles.bundleFor !== 'function') {
    throw new TypeError('validateJwtSvid: bundles must be a JwtBundleSource');
  }
}

type Header = ProtectedHeaderParameters & { alg: JwtSvidAlgorithm };

function readHeader(token: string): Header {
  // Compact serialization only: three base64url parts. JSON serialization and anything else is refused.
  if (typeof token !== 'string') throw invalid('malformed', 'a JWT-SVID must be a string');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    throw invalid('malformed', 'a JWT-SVID must be a compact JWS of three base64url parts');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw invalid('malformed', 'the JWT-SVID header is not base64url JSON', undefined, cause);
  }
  if (!isJwtSvidAlgorithm(header.alg)) {
    throw invalid('alg', `the JWT-SVID algorithm ${JSON.stringify(header.alg)} is not allowed`);
  }
  if (header.typ !== undefined && !TYPES.has(header.typ)) {
    throw invalid('typ', `the JWT-SVID typ ${JSON.stringify(header.typ)} is not JWT or JOSE`);
  }
  // No JWS extension is understood here, so any critical one must make the token invalid (RFC 7515 §4.1.11).
  if (header.crit !== undefined) throw invalid('crit', 'the JWT-SVID has critical header parameters');
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw invalid('malformed', 'kid is not a string');
  return header as Header;
}

function readClaims(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch (cause) {
    throw invalid('malformed', 'the JWT-SVID payload is not base64url JSON claims', undefined, cause);
  }
}

function subjectOf(claims: JWTPayload): SpiffeId {
  if (typeof claims.sub !== 'string') throw invalid('sub', 'the JWT-SVID has no sub claim');
  let id: SpiffeId;
  try {
    id = parseSpiffeId(claims.sub);
  } catch (cause) {
    throw invalid('sub', 'the JWT-SVID sub is not a SPIFFE ID', undefined, cause);
  }
  if (id.path === '') throw invalid('sub', 'the JWT-SVID sub names a trust domain, not a workload', id);
  return id;
}

async function verifyWithBundle(
  token: string,
  header: Header,
  bundle: JwtBundle,
  spiffeId: SpiffeId,
  options: ValidateJwtSvidOptions,
): Promise<JWTPayload> {
  const candidates = header.kid === undefined ? bundle.keys : keyWithId(bundle, header.kid, spiffeId);
  if (header.kid !== undefined && !keyFitsAlgorithm(candidates[0] as JWK, header.alg)) {
    throw invalid('alg-key-mismatch', `the key ${header.kid} cannot verify ${header.alg}`, spiffeId);
  }
  let signatureFailure: unknown;
  for (const jwk of candidates) {
    const key = await bundle.importFor(jwk, header.alg);
    if (!key) continue;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [header.alg],
        audience: options.audience,
        requiredClaims: ['exp', 'aud'],
        currentDate: options.now?.() ?? new Date(),
        clockTolerance: Math.round((options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS) / 1000),
      });
      return payload;
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw claimsProblem(error, spiffeId);
      signatureFailure = error;
    }
  }
  if (header.kid !== undefined || signatureFailure) {
    throw invalid('signature', 'the JWT-SVID signature does not verify', spiffeId, signatureFailure);
  }
  throw invalid(
    'unknown-kid',
    `no key of the ${bundle.trustDomain.name} JWT bundle fits ${header.alg}`,
    spiffeId,
  );
}

function keyWithId(bundle: JwtBundle, kid: string, spiffeId: SpiffeId): JWK[] {
  const key = bundle.keyById(kid);
  if (!key)
    throw invalid('unknown-kid', `the JWT bundle of ${bundle.trustDomain.name} has no key ${kid}`, spiffeId);
  return [key];
}

function claimsProblem(error: unknown, spiffeId: SpiffeId): MeshlessError {
  if (error instanceof errors.JWTExpired)
    return invalid('expired', 'the JWT-SVID has expired', spiffeId, error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return invalid('aud', `the JWT-SVID audience: ${error.message}`, spiffeId, error);
    if (error.claim === 'exp')
      return invalid('exp', `the JWT-SVID expiry: ${error.message}`, spiffeId, error);
    if (error.claim === 'nbf')
      return invalid('not-yet-valid', 'the JWT-SVID is not valid yet', spiffeId, error);
    return invalid('claims', `the JWT-SVID claims: ${error.message}`, spiffeId, error);
  }
  return invalid('malformed', `the JWT-SVID is not valid: ${(error as Error)?.message}`, spiffeId, error);
}

function svidOf(token: string, spiffeId: SpiffeId, payload: JWTPayload): JwtSvid {
  const audience = typeof payload.aud === 'string' ? [payload.aud] : [...(payload.aud ?? [])];
  return Object.freeze({
    spiffeId,
    token,
    audience: Object.freeze(audience),
    expiresAt: new Date((payload.exp as number) * 1000),
    ...(typeof payload.iat === 'number' ? { issuedAt: new Date(payload.iat * 1000) } : {}),
    claims: Object.freeze({ ...payload }),
    hint: '',
  });
}

function invalid(rule: string, message: string, spiffeId?: SpiffeId, cause?: unknown): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_JWT_SVID_INVALID',
    `JWT-SVID refused: ${message}`,
    { rule, ...(spiffeId ? { spiffeId: spiffeId.toString() } : {}) },
    cause,
  );
}
