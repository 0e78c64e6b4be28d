import type { Authorizer } from '@meshless/core';
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
const PREFIX = 'meshless fastify';

function checkMode(mode: unknown, where: string): void {
  if (mode !== undefined && !MODES.includes(mode as MtlsMode)) {
    throw new TypeError(
      `${PREFIX}: ${where}.mode must be one of ${MODES.join(', ')}, not ${JSON.stringify(mode)}`,
    );
  }
}

/** Throws TypeError for plugin options it cannot run with, so mistakes show at startup. */
export function validatePluginOptions(options: MeshlessPluginOptions): void {
  if (!options || typeof options !== 'object') {
    throw new TypeError(`${PREFIX}: options are required, for example { authorize: authorize.any() }`);
  }
  if (typeof options.authorize !== 'function') {
    throw new TypeError(
      `${PREFIX}: options.authorize is required (use authorize.any() to allow every verified peer)`,
    );
  }
  checkMode(options.mode, 'options');
  if (options.onDecision !== undefined && typeof options.onDecision !== 'function') {
    throw new TypeError(`${PREFIX}: options.onDecision must be a function`);
  }
  if (options.bearer !== undefined && typeof options.bearer !== 'function') {
    throw new TypeError(
      `${PREFIX}: options.bearer must be a function, such as jwtSvidBearer({ audience, bundles })`,
    );
  }
}

/** Throws TypeError for a route's `config.mtls` that is neither `false` nor a policy. */
export function validateRouteConfig(config: unknown, route: string): void {
  if (config === undefined || config === false) return;
  const where = `route ${route} config.mtls`;
  if (config === null || typeof config !== 'object') {
    throw new TypeError(
      `${PREFIX}: ${where} must be false or { authorize?, mode? }, not ${JSON.stringify(config)}`,
    );
  }
  const { authorize, mode } = config as { authorize?: unknown; mode?: unknown };
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new TypeError(`${PREFIX}: ${where}.authorize must be an authorizer function`);
  }
  checkMode(mode, where);
}
