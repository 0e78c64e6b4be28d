import type https from 'node:https';
import type { Authorizer } from '@meshless/core';
import { assertOptionsObject, authorize as authorizers } from '@meshless/core';
import {
  type CreateServerOptions,
  createServer,
  HTTPS_SERVER_OPTION_KEYS,
  validateServerOptions,
} from '@meshless/server';
import type { FastifyServerFactory } from 'fastify';

const WHERE = 'fastifyServerOptions';

/** Options of {@link fastifyServerOptions}: @meshless/server's, with `authorize` optional. */
export type FastifyServerOptionsInput = Omit<CreateServerOptions, 'authorize'> & {
  /**
   * The connection-level authorizer of the server, applied before Fastify sees a request (a denied
   * peer gets 403 from the server). Default `authorize.any()`: every verified peer reaches Fastify,
   * and the plugin decides per route.
   */
  authorize?: Authorizer;
};

/**
 * What {@link fastifyServerOptions} returns, to spread into `fastify({...})`.
 *
 * @example
 * ```ts
 * const serverOptions: MeshlessFastifyServerOptions = fastifyServerOptions({ source });
 * const app = Fastify({ logger: true, ...serverOptions });
 * ```
 */
export interface MeshlessFastifyServerOptions {
  /**
   * Empty on purpose: the TLS options come from the source. Its presence makes Fastify type the server
   * as an `https.Server` and print `https://` addresses; Fastify never reads it when a `serverFactory`
   * is given.
   */
  https: https.ServerOptions;
  /** Creates the server with @meshless/server's `createServer`, rotation included. */
  serverFactory: FastifyServerFactory<https.Server>;
}

type FastifyTimeouts = {
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
};

/**
 * Options to spread into `fastify({...})` so that its server is meshless's `createServer`: strict
 * mutual TLS from `source` (clients without a verified certificate fail the handshake), hot rotation
 * when the source updates, and the identity that the plugin puts on `request.peer`.
 *
 * Fastify's `keepAliveTimeout`, `requestTimeout`, `connectionTimeout` and `maxRequestsPerSocket` are
 * applied to the server as Fastify would; any other node:https option can be given here.
 *
 * @throws MeshlessError `ERR_MESHLESS_INVALID_OPTION` for a missing `source`, an `authorize` that is
 * not a function, an unknown key, or an option `createServer` refuses (checked here, at once).
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { authorize } from '@meshless/core';
 * import meshless, { fastifyServerOptions } from '@meshless/fastify';
 * import { watchCertificateFiles } from '@meshless/watcher';
 *
 * const source = await watchCertificateFiles({ dir: '/var/run/secrets/tls', layout: 'cert-manager' });
 * const app = Fastify({ logger: true, ...fastifyServerOptions({ source }) });
 * await app.register(meshless, { authorize: authorize.memberOf('example.org') });
 * ```
 */
export function fastifyServerOptions(options: FastifyServerOptionsInput): MeshlessFastifyServerOptions {
  assertOptionsObject(WHERE, options);
  const serverOptions: CreateServerOptions = {
    ...options,
    authorize: options.authorize ?? authorizers.any(),
  };
  // Checked now, not when Fastify calls the factory: an unknown or weakening option fails here.
  validateServerOptions(serverOptions, WHERE, HTTPS_SERVER_OPTION_KEYS);
  return {
    https: {},
    serverFactory: (handler, fastifyOptions) => {
      const server = createServer(serverOptions, handler);
      applyTimeouts(server, fastifyOptions as FastifyTimeouts);
      return server;
    },
  };
}

// What Fastify does to the servers it creates itself (lib/server.js), so the options keep working.
function applyTimeouts(server: https.Server, options: FastifyTimeouts): void {
  if (typeof options.keepAliveTimeout === 'number') server.keepAliveTimeout = options.keepAliveTimeout;
  if (typeof options.requestTimeout === 'number') server.requestTimeout = options.requestTimeout;
  if (typeof options.connectionTimeout === 'number') server.setTimeout(options.connectionTimeout);
  if (typeof options.maxRequestsPerSocket === 'number' && options.maxRequestsPerSocket > 0) {
    server.maxRequestsPerSocket = options.maxRequestsPerSocket;
  }
}
