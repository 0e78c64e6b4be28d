import { type Authorizer, assertKnownOptions, assertOptionsObject, invalidOption } from '@meshless/core';
import type { AuthorizationEvent as ServerAuthorizationEvent } from '@meshless/server';

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
}

const MODES: readonly MtlsMode[] = ['enforce', 'audit'];

const WHERE = 'mtls';
const KEYS = ['authorize', 'mode', 'onDecision'] as const;

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
  const { authorize, mode = 'enforce', onDecision } = options;
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
