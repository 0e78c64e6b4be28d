import type { PeerIdentity } from '@meshless/core';
import {
  authorizeRequest,
  authorizeRequestOrBearer,
  type CredentialOutcome,
  peerOf,
  type Refusal,
  type RequestOutcome,
  refusalBody,
  reportDecision,
} from '@meshless/server';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { MeshlessPeerError } from './errors.js';
import {
  type MeshlessPluginOptions,
  type MtlsRouteConfig,
  type Policy,
  validatePluginOptions,
  validateRouteConfig,
} from './options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified peer of the request's connection, set by the meshless plugin; `null` when there is
     * none (which reaches a handler only in audit mode or on a route with `config.mtls: false`).
     */
    peer: PeerIdentity | null;
  }
  interface FastifyContextConfig {
    /** This route's mTLS policy: `false` opts it out, `{ authorize?, mode? }` replaces the plugin's. */
    mtls?: MtlsRouteConfig;
  }
}

// Decided per route: a route's own config replaces the plugin-wide policy, field by field.
function policyOf(base: Policy, route: Exclude<MtlsRouteConfig, false> | undefined, url: string): Policy {
  if (route === undefined) return base;
  validateRouteConfig(route, url);
  return { authorize: route.authorize ?? base.authorize, mode: route.mode ?? base.mode };
}

// The same status and bytes as @meshless/server and @meshless/express answer.
function refuse(reply: FastifyReply, refusal: Refusal): void {
  reply.code(refusal.status).type('application/json').send(refusalBody(refusal));
}

const plugin: FastifyPluginCallback<MeshlessPluginOptions> = (fastify, options, done) => {
  try {
    validatePluginOptions(options);
  } catch (error) {
    // Thrown here it would escape avvio; handed to done() it makes register()/ready() reject.
    done(error as Error);
    return;
  }
  const base: Policy = { authorize: options.authorize, mode: options.mode ?? 'enforce' };
  const { onDecision, useErrorHandler = false, bearer } = options;

  // Records the decision, then answers the refusal (enforce mode) or lets the request go on.
  const decide = (
    request: FastifyRequest,
    reply: FastifyReply,
    next: HookHandlerDoneFunction,
    policy: Policy,
    outcome: RequestOutcome | CredentialOutcome,
  ) => {
    request.peer = outcome.peer ?? null;
    const enforced = policy.mode === 'enforce';
    reportDecision(
      {
        decision: outcome.refusal ? 'deny' : 'allow',
        enforced,
        reason: outcome.reason,
        ...(outcome.refusal ? { error: outcome.refusal.error } : {}),
        ...(outcome.peer ? { peer: outcome.peer } : {}),
        security: outcome.security,
        method: request.method,
        path: pathOf(request.url),
        layer: 'fastify',
        ...('credential' in outcome ? { credential: outcome.credential } : {}),
      },
      onDecision,
    );
    if (!outcome.refusal || !enforced) next();
    else if (useErrorHandler) next(new MeshlessPeerError(outcome.refusal));
    else refuse(reply, outcome.refusal);
  };

  // Registered again in a child scope (to stack a stricter policy there), the decorator already exists.
  if (!fastify.hasRequestDecorator('peer')) fastify.decorateRequest('peer', null);

  fastify.addHook('onRoute', (route) =>
    validateRouteConfig(route.config?.mtls, `${route.method} ${route.url}`),
  );

  fastify.addHook('onRequest', (request, reply, next) => {
    const route = request.routeOptions.config?.mtls;
    if (route === false) {
      request.peer = peerOf(request.raw) ?? null;
      next();
      return;
    }
    const policy = policyOf(base, route, request.routeOptions.url ?? request.url);
    if (!bearer) {
      decide(request, reply, next, policy, authorizeRequest(request.raw, policy.authorize));
      return;
    }
    authorizeRequestOrBearer(request.raw, policy.authorize, bearer).then(
      (outcome) => decide(request, reply, next, policy, outcome),
      (error: Error) => next(error),
    );
  });
  done();
};

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The meshless Fastify plugin: fills `request.peer` with the verified peer of the connection and
 * applies an mTLS policy to every route: the plugin-wide `authorize`, replaced on a route by
 * `config: { mtls: { authorize } }`, or skipped with `config: { mtls: false }`. No verified peer
 * gives 401 `{"error":"peer_unauthenticated",…}`, a denied peer 403 `{"error":"peer_forbidden","reason":…}`
 * (or, with `useErrorHandler`, a {@link MeshlessPeerError} for Fastify's error handler). In `audit`
 * mode every request goes on and the decision is only recorded.
 *
 * Registered at the root it covers the whole app; registered inside an encapsulated plugin it covers
 * that plugin's routes, on top of any policy of its parents. Serve the app with
 * {@link fastifyServerOptions} so that the peer is verified during the TLS handshake.
 *
 * @throws MeshlessError `ERR_MESHLESS_INVALID_OPTION` at registration when `authorize` is missing,
 * an option is invalid or unknown, and when a route's `config.mtls` is neither `false` nor
 * `{ authorize?, mode? }` or has an unknown key (a typo such as `authorise` never falls back to
 * the plugin-wide policy).
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { authorize } from '@meshless/core';
 * import meshless, { fastifyServerOptions } from '@meshless/fastify';
 *
 * const app = Fastify({ ...fastifyServerOptions({ source }) });
 * await app.register(meshless, { authorize: authorize.memberOf('example.org') });
 * app.get('/orders', async (request) => ({ caller: request.peer?.spiffeId?.toString() }));
 * app.delete('/orders/:id', { config: { mtls: { authorize: authorize.id('spiffe://example.org/ns/ops/sa/admin') } } }, remove);
 * app.get('/healthz', { config: { mtls: false } }, async () => 'ok');
 * await app.listen({ port: 8443, host: '0.0.0.0' });
 * ```
 */
export const meshless = fp(plugin, { name: '@meshless/fastify', fastify: '5.x' });
