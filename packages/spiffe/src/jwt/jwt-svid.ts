import type { SpiffeId } from '@meshless/core';
import type { JWTPayload } from 'jose';

/**
 * A JWT-SVID: a token, the SPIFFE ID it names and what its claims say. Returned by
 * `validateJwtSvid()` (after every check) and by `fetchJwtSvids()` (as the agent issued it).
 *
 * @example
 * ```ts
 * const svid = await validateJwtSvid(token, { audience: 'orders', bundles });
 * svid.spiffeId.toString(); // 'spiffe://example.org/ns/prod/sa/web'
 * svid.expiresAt;           // Date
 * ```
 */
export interface JwtSvid {
  readonly spiffeId: SpiffeId;
  /** The compact JWS, as received. Treat it as a secret: it is a bearer credential. */
  readonly token: string;
  /** The `aud` claim, always as a list. */
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly issuedAt?: Date;
  /** Every claim of the payload. */
  readonly claims: Readonly<JWTPayload>;
  /** The operator's hint, from the Workload API; `''` otherwise. */
  readonly hint: string;
}
