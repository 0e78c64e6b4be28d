import { type Authorizer, assertKnownOptions, assertOptionsObject, invalidOption } from '@meshless/core';
import type { BearerAuthenticator, AuthorizationEvent as ServerAuthorizationEvent } from '@meshless/server';

/** One decision of the plugin (see `AuthorizationEvent` in @meshless/server). */
export type AuthorizationEvent = ServerAuthorizationEvent<'fastify'>;

/**
 * What the plugin does with a request it would refuse: `enforce` answers 401 or 403, `audit` lets
 * it through and only records the decision (a dry run before enforcing, like Linkerd's audit).
 *
 * @example
 * ```ts
 * await app.register(meshless, { authorize: authorize.memberOf('example.org'), mode: 'audit' });
 * ```
 */
export type MtlsMode = 'enforce' | 'audit';

/**
 * Options of the plugin.
 *
 * @example
 * ```ts
 * const options: MeshlessPluginOptions = { authorize: authorize.id('spiffe://example.org/ns/prod/sa/web') };
 * await app.register(meshless, options);
 * ```
 */
export interface MeshlessPluginOptions {
  /**
   * The policy of every route that does not set its own (`config: { mtls: { authorize } }`).
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
   * Hand refusals to Fastify's error handler as a {@link MeshlessPeerError} (`statusCode` 401/403,
   * `code` `FST_MESHLESS_PEER_*`) instead of answering `{"error":…,"reason":…}` directly. For apps
   * whose `setErrorHandler` shapes every error response. Default false.
   */
  useErrorHandler?: boolean;
  /**
   * Also admit callers by an `Authorization: Bearer` token, for when TLS ends before this service:
   * for example `jwtSvidBearer({ audience, bundles })` from `@meshless/spiffe`. Off by default. A
   * request with a Bearer header is judged by the token alone (a bad token is 401, never a fallback to
   * the certificate); one without, by its client certificate. `request.peer.credential` is
   * `'jwt-svid'` for a token caller, and decisions carry `credential`.
   */
  bearer?: BearerAuthenticator;
}

/**
 * A route's own policy, in its `config.mtls`: `false` to opt the route out (a health check), or an
 * authorizer and/or mode that replace the plugin's for this route.
 *
 * @example
 * ```ts
 * app.get('/admin', { config: { mtls: { authorize: authorize.id('spiffe://example.org/ns/ops/sa/admin') } } }, handler);
 * app.get('/healthz', { config: { mtls: false } }, async () => 'ok');
 * ```
 */
export type MtlsRouteConfig = false | { authorize?: Authorizer; mode?: MtlsMode };

/** The policy in force for one route. */
export interface Policy {
  authorize: Authorizer;
  mode: MtlsMode;
}

const MODES: readonly MtlsMode[] = ['enforce', 'audit'];
const PLUGIN_KEYS = ['authorize', 'mode', 'onDecision', 'useErrorHandler', 'bearer'] as const;
// Options of Fastify's own register() that reach the plugin's options object.
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers'] as const;
const ROUTE_KEYS = ['authorize', 'mode'] as const;
const AUTHORIZER = "an authorizer function (e.g. authorize.id('spiffe://...'))";

function checkMode(mode: unknown, where: string): void {
  if (mode !== undefined && !MODES.includes(mode as MtlsMode)) {
    throw invalidOption(where, 'mode', mode, `one of ${MODES.map((m) => `'${m}'`).join(', ')}`);
  }
}

/**
 * Throws `ERR_MESHLESS_INVALID_OPTION` for plugin options it cannot run with (a missing authorizer,
 * a bad value, an unknown key such as `authorise`), so mistakes show at registration.
 *
 * @example
 * ```ts
 * validatePluginOptions({ authorize: authorize.any(), mode: 'audit' });
 * ```
 */
export function validatePluginOptions(options: MeshlessPluginOptions): void {
  const where = '@meshless/fastify plugin';
  assertOptionsObject(where, options);
  assertKnownOptions(where, options, [...PLUGIN_KEYS, ...REGISTER_KEYS]);
  if (typeof options.authorize !== 'function') {
    throw invalidOption(
      where,
      'authorize',
      options.authorize,
      `${AUTHORIZER.slice(0, -1)}, or authorize.any() to allow every verified peer)`,
    );
  }
  checkMode(options.mode, where);
  if (options.onDecision !== undefined && typeof options.onDecision !== 'function') {
    throw invalidOption(where, 'onDecision', options.onDecision, 'a function');
  }
  if (options.useErrorHandler !== undefined && typeof options.useErrorHandler !== 'boolean') {
    throw invalidOption(where, 'useErrorHandler', options.useErrorHandler, 'a boolean');
  }
  if (options.bearer !== undefined && typeof options.bearer !== 'function') {
    throw invalidOption(
      where,
      'bearer',
      options.bearer,
      'a function, such as jwtSvidBearer({ audience, bundles })',
    );
  }
}

/**
 * Throws `ERR_MESHLESS_INVALID_OPTION` for a route's `config.mtls` that is neither `false` nor a
 * policy `{ authorize?, mode? }`, and for unknown keys in it: a typo such as `authorise` must never
 * fall back to the plugin-wide policy.
 *
 * @example
 * ```ts
 * validateRouteConfig({ authorise: authorize.id(ADMIN) }, 'GET /admin');
 * // throws: route GET /admin config.mtls: unknown option "authorise"; did you mean "authorize"?
 * ```
 */
export function validateRouteConfig(config: unknown, route: string): void {
  if (config === undefined || config === false) return;
  const where = `route ${route} config.mtls`;
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidOption(where, 'config.mtls', config, 'false or { authorize?, mode? }');
  }
  assertKnownOptions(where, config, ROUTE_KEYS);
  const { authorize, mode } = config as { authorize?: unknown; mode?: unknown };
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw invalidOption(where, 'authorize', authorize, AUTHORIZER);
  }
  checkMode(mode, where);
}
