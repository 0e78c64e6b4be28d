import type * as grpc from '@grpc/grpc-js';
import { MeshlessError, parseSpiffeId } from '@meshless/core';
import { decodeJwt } from 'jose';
import { parseWorkloadApiAddress } from '../address.js';
import { errorOfStatus, workloadApiClient, workloadApiMetadata } from '../client.js';
import type { JwtSvid } from './jwt-svid.js';

/**
 * Options of {@link fetchJwtSvids}.
 *
 * @example
 * ```ts
 * const options: FetchJwtSvidsOptions = { audience: ['spiffe://example.org/orders'], timeoutMs: 5_000 };
 * ```
 */
export interface FetchJwtSvidsOptions {
  /** The audience(s) the token is for; at least one. */
  audience: string | readonly string[];
  /** Ask for the JWT-SVID of this SPIFFE ID only. Default: every identity the workload is entitled to. */
  spiffeId?: string;
  /** The Workload API address. Default: `SPIFFE_ENDPOINT_SOCKET`. */
  address?: string;
  /** Deadline of the call. Default 10 000 ms. */
  timeoutMs?: number;
}

interface JwtSvidResponse {
  svids: { spiffe_id: string; svid: string; hint: string }[];
}

/**
 * Fetches JWT-SVIDs for `audience` from the Workload API (`FetchJWTSVID`, with the security header):
 * the first is the default identity. The tokens come from the local agent and are not validated
 * again; they are only read for their SPIFFE ID, audience and expiry.
 *
 * @throws MeshlessError `ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED` (no JWT-SVID granted: never a
 * stale token instead), `ERR_MESHLESS_WORKLOAD_API_REFUSED`, `ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE`,
 * `ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID` (an empty or unreadable answer),
 * `ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID`.
 * @example
 * ```ts
 * const [svid] = await fetchJwtSvids({ audience: 'spiffe://example.org/orders' });
 * await fetch(url, { headers: { authorization: `Bearer ${svid.token}` } });
 * ```
 */
export async function fetchJwtSvids(options: FetchJwtSvidsOptions): Promise<JwtSvid[]> {
  const audience = checkAudience(options?.audience);
  const address = parseWorkloadApiAddress(options.address);
  const client = workloadApiClient(address);
  try {
    const response = await new Promise<JwtSvidResponse>((resolve, reject) => {
      client.FetchJWTSVID(
        { audience, spiffe_id: options.spiffeId ?? '' },
        workloadApiMetadata(),
        { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
        (error, answer) =>
          error
            ? reject(errorOfStatus(error as grpc.StatusObject, address))
            : resolve(answer as JwtSvidResponse),
      );
    });
    if (!response.svids?.length) throw invalid('no-svids', 'the FetchJWTSVID answer holds no JWT-SVID');
    return response.svids.map(readSvid);
  } finally {
    client.close();
  }
}

function checkAudience(audience: unknown): string[] {
  const list = typeof audience === 'string' ? [audience] : audience;
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError('fetchJwtSvids: audience must be a non-empty string or list of them');
  }
  return [...list];
}

function readSvid(svid: { spiffe_id: string; svid: string; hint: string }): JwtSvid {
  try {
    const claims = decodeJwt(svid.svid);
    const aud = typeof claims.aud === 'string' ? [claims.aud] : [...(claims.aud ?? [])];
    if (typeof claims.exp !== 'number') throw new Error('the token has no exp');
    return Object.freeze({
      spiffeId: parseSpiffeId(svid.spiffe_id),
      token: svid.svid,
      audience: Object.freeze(aud),
      expiresAt: new Date(claims.exp * 1000),
      ...(typeof claims.iat === 'number' ? { issuedAt: new Date(claims.iat * 1000) } : {}),
      claims: Object.freeze({ ...claims }),
      hint: svid.hint ?? '',
    });
  } catch (cause) {
    throw invalid('jwt-svid', `a JWT-SVID of the answer cannot be read (${svid.spiffe_id})`, cause);
  }
}

function invalid(rule: string, message: string, cause?: unknown): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID',
    `Workload API response discarded: ${message}`,
    { rule },
    cause,
  );
}
