import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PeerIdentity } from '@meshless/core';
import {
  authorizeRequest,
  authorizeRequestOrBearer,
  type CredentialOutcome,
  type RequestOutcome,
  refuseResponse,
  reportDecision,
} from '@meshless/server';
import { type MtlsOptions, validateMtlsOptions } from './options.js';

declare global {
  // Express's own types merge `Express.Request` into every request type, in @types/express 4 and 5.
  namespace Express {
    interface Request {
      /**
       * The verified peer of the request's connection, set by `mtls()`. `undefined` when there is none,
       * which only reaches a handler in audit mode.
       */
      peer?: PeerIdentity;
    }
  }
}

/**
 * A connect-style middleware. Typed with Node's request and response rather than Express's, so that
 * it fits Express 4 and 5 (and their type packages) alike.
 *
 * @example
 * ```ts
 * const onlyWeb: MtlsMiddleware = mtls({ authorize: authorize.id('spiffe://example.org/ns/prod/sa/web') });
 * router.get('/orders/:id', onlyWeb, getOrder);
 * ```
 */
export type MtlsMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express middleware that authorizes the request's mTLS peer: no verified peer gives 401
 * `{"error":"peer_unauthenticated"}`, a peer the authorizer denies 403 `{"error":"peer_forbidden","reason":…}`,
 * and an allowed peer goes on with `req.peer` set. In `audit` mode every request goes on and the
 * decision it would have had is only recorded (`onDecision` and the `meshless:authorization` channel).
 *
 * Mount it where a policy applies: on the app, a router or a single route. Policies stack: a request
 * must pass every `mtls()` on its way. The server must be a meshless server (`createServer` from
 * @meshless/server), which verifies the client certificate during the handshake.
 *
 * @throws MeshlessError `ERR_MESHLESS_INVALID_OPTION` when `authorize` is missing, an option is invalid
 * or a key is unknown (a typo such as `authorise` never falls back to a looser policy).
 * @example
 * ```ts
 * import express from 'express';
 * import { authorize } from '@meshless/core';
 * import { createServer } from '@meshless/server';
 * import { mtls } from '@meshless/express';
 *
 * const app = express();
 * app.use('/orders', mtls({ authorize: authorize.id('spiffe://example.org/ns/prod/sa/web') }), ordersRouter);
 * app.get('/whoami', mtls({ authorize: authorize.memberOf('example.org') }), (req, res) => {
 *   res.json({ peer: req.peer?.spiffeId?.toString() });
 * });
 * createServer({ source, authorize: authorize.any() }, app).listen(8443);
 *
 * // Behind a TLS-terminating load balancer: callers may also present a JWT-SVID as a bearer token.
 * const bundles = await workloadApiJwtBundles(); // from @meshless/spiffe
 * app.use(mtls({ authorize: authorize.memberOf('example.org'), bearer: jwtSvidBearer({ audience: 'spiffe://example.org/orders', bundles }) }));
 * ```
 */
export function mtls(options: MtlsOptions): MtlsMiddleware {
  const { authorize, mode, onDecision, bearer } = validateMtlsOptions(options);
  const enforced = mode === 'enforce';
  // Records the decision, then answers the refusal (enforce mode) or lets the request go on.
  const decide = (
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
    outcome: RequestOutcome | CredentialOutcome,
  ) => {
    (req as Express.Request).peer = outcome.peer;
    reportDecision(
      {
        decision: outcome.refusal ? 'deny' : 'allow',
        enforced,
        reason: outcome.reason,
        ...(outcome.refusal ? { error: outcome.refusal.error } : {}),
        ...(outcome.peer ? { peer: outcome.peer } : {}),
        security: outcome.security,
        method: req.method ?? '',
        path: pathOf(req),
        layer: 'express',
        ...('credential' in outcome ? { credential: outcome.credential } : {}),
      },
      onDecision,
    );
    if (outcome.refusal && enforced) refuseResponse(res, outcome.refusal);
    else next();
  };
  if (!bearer) {
    return function meshlessMtls(req, res, next) {
      decide(req, res, next, authorizeRequest(req, authorize));
    };
  }
  return function meshlessMtlsOrBearer(req, res, next) {
    authorizeRequestOrBearer(req, authorize, bearer).then((outcome) => decide(req, res, next, outcome), next);
  };
}

// originalUrl keeps the mount path that Express strips from req.url inside routers.
function pathOf(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
