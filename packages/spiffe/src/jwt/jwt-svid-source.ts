import { type FetchJwtSvidsOptions, fetchJwtSvids } from './fetch-jwt-svids.js';
import type { JwtSvid } from './jwt-svid.js';

/**
 * Options of {@link jwtSvidSource}: those of `fetchJwtSvids()`, plus when to refresh.
 *
 * @example
 * ```ts
 * const options: JwtSvidSourceOptions = { audience: 'spiffe://example.org/orders', refreshBeforeMs: 60_000 };
 * ```
 */
export interface JwtSvidSourceOptions extends FetchJwtSvidsOptions {
  /**
   * Fetch a new token once the current one is this close to `exp`, or past half its lifetime, which
   * ever comes first. Default 30 000 ms.
   */
  refreshBeforeMs?: number;
  /** The clock. Default: now. */
  now?: () => Date;
}

/**
 * The JWT-SVID a client presents for one audience. See {@link jwtSvidSource}.
 *
 * @example
 * ```ts
 * const svid = await source.svid();
 * headers.authorization = `Bearer ${svid.token}`;
 * ```
 */
export interface JwtSvidSource {
  /** The current JWT-SVID, fetched again when it nears expiry. Rejects when none can be had. */
  svid(): Promise<JwtSvid>;
}

/**
 * A JWT-SVID for `audience`, from the Workload API, cached and fetched again before it expires (at
 * half its lifetime, or `refreshBeforeMs` before `exp`). Concurrent callers share one fetch. When a
 * refresh fails the old token is kept only while it is still comfortably valid, and never after the
 * agent answered PERMISSION_DENIED: a denied workload gets the error, not a stale token.
 *
 * @example
 * ```ts
 * const source = jwtSvidSource({ audience: 'spiffe://example.org/orders' });
 * const fetchWithToken = withJwtSvid(fetch, source);
 * await fetchWithToken('https://gateway.example.org/orders');
 * ```
 */
export function jwtSvidSource(options: JwtSvidSourceOptions): JwtSvidSource {
  const refreshBeforeMs = options.refreshBeforeMs ?? 30_000;
  if (!(Number.isFinite(refreshBeforeMs) && refreshBeforeMs >= 0)) {
    throw new TypeError('jwtSvidSource: refreshBeforeMs must be a number of milliseconds, 0 or more');
  }
  const now = () => (options.now?.() ?? new Date()).getTime();
  let current: JwtSvid | undefined;
  let pending: Promise<JwtSvid> | undefined;

  const refreshAt = (svid: JwtSvid) => {
    const exp = svid.expiresAt.getTime();
    const start = svid.issuedAt?.getTime() ?? exp;
    return Math.min(exp - refreshBeforeMs, start + (exp - start) / 2);
  };
  const refresh = () => {
    pending ??= fetchJwtSvids(options)
      .then(([first]) => {
        current = first as JwtSvid;
        return current;
      })
      .catch((error: { code?: string }) => {
        // Keep a token that is still valid for a while, unless the agent no longer grants one.
        const keep = current && error.code !== 'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED';
        if (keep && current && current.expiresAt.getTime() - now() > refreshBeforeMs / 2) return current;
        current = undefined;
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    svid: () => (current && now() < refreshAt(current) ? Promise.resolve(current) : refresh()),
  };
}

/**
 * Wraps a `fetch` so that each request carries `Authorization: Bearer <JWT-SVID>` from `source`
 * (unless the request sets its own `authorization` header). Works with the global fetch and with
 * `@meshless/client`'s `createFetch()`.
 *
 * @example
 * ```ts
 * const fetchWithToken = withJwtSvid(createFetch({ source }), jwtSvidSource({ audience: 'spiffe://example.org/orders' }));
 * const res = await fetchWithToken('https://orders.internal/api');
 * ```
 */
export function withJwtSvid<F extends (input: never, init?: never) => Promise<unknown>>(
  fetchImpl: F,
  source: JwtSvidSource,
): F {
  const wrapped = async (input: never, init?: { headers?: unknown }) => {
    const headers = new Headers((init?.headers ?? undefined) as ConstructorParameters<typeof Headers>[0]);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${(await source.svid()).token}`);
    return fetchImpl(input, { ...(init ?? {}), headers } as never);
  };
  return wrapped as unknown as F;
}
