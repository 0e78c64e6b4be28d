import type http from 'node:http';
import type http2 from 'node:http2';
import type { Server as NetServer } from 'node:net';

// The HTTP settings Node's servers keep as public properties, given as `createServer` options or set
// later (`server.headersTimeout = ...`, Fastify's serverFactory sets some after creation). The
// permissive server's plaintext half is an internal server: it must see the values the TLS half has
// at the time each connection arrives, so they are copied from the public server, never remembered.
const HTTP1_SETTINGS = [
  'timeout',
  'keepAliveTimeout',
  'headersTimeout',
  'requestTimeout',
  'connectionsCheckingInterval',
  'maxHeadersCount',
  'maxRequestsPerSocket',
  'maxHeaderSize',
  'insecureHTTPParser',
  'requireHostHeader',
  'joinDuplicateHeaders',
  'rejectNonStandardBodyWrites',
  'highWaterMark',
] as const;

// An HTTP/2 server's idle timeout; its other limits (settings, maxSessionMemory, maxHeaderListPairs,
// ...) are constructor options, which the h2c server is created with.
const HTTP2_SETTINGS = ['timeout'] as const;

type Settings = Record<string, unknown>;

/**
 * Copies the public server's HTTP settings onto an internal plaintext server, so that a plaintext
 * connection gets the limits and timeouts a TLS connection would get at the same moment.
 *
 * @example
 * ```ts
 * mirrorHttpSettings(server, http1); // before handing it a plaintext connection
 * http1.emit('connection', socket);
 * ```
 */
export function mirrorHttpSettings(from: object, to: http.Server | http2.Http2Server): void {
  const keys = isHttp1(to) ? HTTP1_SETTINGS : HTTP2_SETTINGS;
  const source = from as Settings;
  const target = to as unknown as Settings;
  for (const key of keys) {
    if (key in source && target[key] !== source[key]) target[key] = source[key];
  }
}

/**
 * Starts the checks of `headersTimeout` and `requestTimeout` on an internal HTTP/1.1 server that never
 * listens. Node arms them when a server emits 'listening' (the checker runs every
 * `connectionsCheckingInterval` and closes connections past their deadline with 408), and only
 * connections that arrive afterwards are tracked: so this runs when the public server starts
 * listening, or at once if it already does. `server.close()` on the internal server stops them.
 *
 * @example
 * ```ts
 * armTimeoutChecks(server, http1);
 * ```
 */
export function armTimeoutChecks(server: NetServer, internal: http.Server): void {
  const arm = () => {
    mirrorHttpSettings(server, internal);
    internal.emit('listening');
  };
  if (server.listening) arm();
  server.on('listening', arm);
}

/**
 * Makes `closeIdleConnections()` and `closeAllConnections()` of the public server (both called by
 * `server.close()` since Node 19) reach the plaintext connections too, which the public server does
 * not track: otherwise an idle plaintext keep-alive connection holds `close()` open.
 *
 * @example
 * ```ts
 * closeWithPublicServer(server, http1);
 * ```
 */
export function closeWithPublicServer(server: object, internal: http.Server): void {
  const target = server as Record<string, unknown>;
  for (const method of ['closeIdleConnections', 'closeAllConnections'] as const) {
    const own = target[method];
    if (typeof own !== 'function') continue;
    target[method] = function closeBoth(this: unknown, ...args: unknown[]) {
      internal[method]();
      return Reflect.apply(own, this, args);
    };
  }
}

function isHttp1(server: http.Server | http2.Http2Server): server is http.Server {
  return typeof (server as http.Server).closeIdleConnections === 'function';
}
