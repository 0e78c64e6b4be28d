import { type Authorizer, assertKnownOptions, assertOptionsObject, invalidOption } from '@meshless/core';
import type { BearerAuthenticator, AuthorizationEvent as ServerAuthorizationEvent } from '@meshless/server';

/** One decision of the middleware (see `AuthorizationEvent` in @meshless/server). */
export type AuthorizationEvent = ServerAuthorizationEvent<'express'>;

/**
 * What the middleware does with a request it would refuse: `enforce` answers 401 or 403, `audit`
 * lets it through and only records the decision (a dry run before enforcing, like Linkerd's audit).
 *
 * @example
 * ```ts
 * const mode: MtlsMode = process.env.MTLS_ENFORCE === 'true' ? 'enforce' : 'audit';
 * app.use(mtls({ authorize: authorize.memberOf('example.org'), mode }));
 * ```
 */
export type MtlsMode = 'enforce' | 'audit';

/**
 * Options of {@link mtls}.
 *
 * @example
 * ```ts
 * const options: MtlsOptions = { authorize: authorize.id('spiffe://example.org/ns/prod/sa/web'), onDecision: log.info };
 * app.use('/orders', mtls(options), ordersRouter);
 * ```
 */
export interface MtlsOptions {
  /**
   * Decides which verified peers may pass, for example `authorize.id('spiffe://example.org/ns/prod/sa/web')`.
   * Required: pass `authorize.any()` to let every peer the trust bundle vouches for through, on purpose.
   */
  authorize: Authorizer;
  /** `enforce` (default) or `audit`. */
  mode?: MtlsMode;
  /**
   * Called with every decision, allowed or denied, enforced or audited: the hook for a logger. The
   * same event goes to the `meshless:authorization` diagnostics channel.
   */
  onDecision?: (event: AuthorizationEvent) => void;
  /**
   * Also admit callers by an `Authorization: Bearer` token, for when TLS ends before this service (a
   * load balancer, an ingress): for example `jwtSvidBearer({ audience, bundles })` from
   * `@meshless/spiffe`. Off by default. A request with a Bearer header is judged by the token alone
   * (a bad token is 401, with no fallback to the certificate); one without, by its client certificate.
   * `req.peer.credential` is `'jwt-svid'` for a token caller, and decisions carry `credential`.
   */
  bearer?: BearerAuthenticator;
}

const MODES: readonly MtlsMode[] = ['enforce', 'audit'];

const WHERE = 'mtls';
const KEYS = ['authorize', 'mode', 'onDecision', 'bearer'] as const;

/**
 * Checks the options of `mtls()` and throws `ERR_MESHLESS_INVALID_OPTION` for options the middleware
 * cannot be built with (a missing authorizer, a bad mode, an unknown key such as `authorise`), so
 * that mistakes show at startup and a typo never loosens the policy.
 *
 * @example
 * ```ts
 * validateMtlsOptions({ authorize: authorize.any(), mode: 'audit' }).mode; // 'audit'
 * ```
 */
export function validateMtlsOptions(
  options: MtlsOptions,
): Required<Pick<MtlsOptions, 'authorize' | 'mode'>> & MtlsOptions {
  assertOptionsObject(WHERE, options);
  assertKnownOptions(WHERE, options, KEYS);
  const { authorize, mode = 'enforce', onDecision, bearer } = options;
  if (bearer !== undefined && typeof bearer !== 'function') {
    throw invalidOption(WHERE, 'bearer', bearer, 'a function, such as jwtSvidBearer({ audience, bundles })');
  }
  if (typeof authorize !== 'function') {
    throw invalidOption(
      WHERE,
      'authorize',
      authorize,
      "an authorizer function (e.g. authorize.id('spiffe://...'), or authorize.any() to allow every verified peer)",
    );
  }
  if (!MODES.includes(mode)) {
    throw invalidOption(WHERE, 'mode', mode, `one of ${MODES.map((m) => `'${m}'`).join(', ')}`);
  }
  if (onDecision !== undefined && typeof onDecision !== 'function') {
    throw invalidOption(WHERE, 'onDecision', onDecision, 'a function');
  }
  return { ...options, authorize, mode };
}
