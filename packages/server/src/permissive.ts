import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { channels } from '@meshless/core';
import { armTimeoutChecks, closeWithPublicServer, mirrorHttpSettings } from './plaintext-settings.js';
import { sniffProtocol } from './protocol-sniffer.js';

const connectionChannel = diagnostics.channel(channels.connection);

// Events of the plaintext servers that belong to the application, re-emitted on the public server
// so that its listeners (and meshless's request guard) see plaintext requests like TLS ones.
const HTTP1_EVENTS = ['request', 'upgrade', 'checkContinue', 'checkExpectation', 'connect'] as const;
// Events Node answers itself unless the server has a listener (a 400, 408 or 431 for 'clientError',
// closing the socket for 'timeout'): forwarded so that the public server's listeners (Fastify's
// clientError handler) decide, and Node's default applies when it has none, as on the TLS path.
const HANDLED_IF_LISTENED = new Set<string | symbol>(['clientError', 'timeout']);

/**
 * Makes one port serve TLS and plaintext: each new connection's first bytes decide whether it goes
 * to the server's own TLS layer, to an internal HTTP/1.1 server, or (for an HTTP/2 server) to an
 * internal h2c server for prior-knowledge clients. Plaintext requests are re-emitted on `server`.
 */
export function servePlaintextToo(
  server: TlsServer,
  options: { http2: boolean; timeoutMs: number; serverOptions?: object },
): void {
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  // Created with the public server's own options (for the limits only a constructor takes), then
  // kept in step with its settings on every connection.
  const serverOptions = (options.serverOptions ?? {}) as http.ServerOptions & http2.ServerOptions;
  const http1 = http.createServer(serverOptions);
  for (const event of HTTP1_EVENTS) http1.on(event, (...args: unknown[]) => server.emit(event, ...args));
  forwardIfListened(http1, server);
  armTimeoutChecks(server, http1);
  closeWithPublicServer(server, http1);
  const h2c = options.http2 ? http2.createServer(serverOptions) : undefined;
  h2c?.on('stream', (...args: unknown[]) => server.emit('stream', ...args));
  if (h2c) forwardIfListened(h2c, server);

  server.on('connection', (socket: Socket) => {
    sniffProtocol(socket, options.timeoutMs, (protocol) => {
      if (protocol === 'tls') {
        for (const listener of tlsListeners) listener.call(server, socket);
        return;
      }
      if (connectionChannel.hasSubscribers) {
        connectionChannel.publish({
          security: 'plaintext',
          protocol: protocol === 'h2c' ? 'h2c' : 'http/1.1',
          remoteAddress: socket.remoteAddress,
        });
      }
      if (protocol === 'h2c' && h2c) {
        mirrorHttpSettings(server, h2c);
        h2c.emit('connection', socket);
        return;
      }
      mirrorHttpSettings(server, http1);
      http1.emit('connection', socket);
      // The HTTP/1.1 parser reads through 'data' events; the sniffer left the socket paused.
      socket.resume();
    });
  });
  server.once('close', () => {
    http1.close();
    h2c?.close();
  });
}

// Node reads the return value of emit() for these events to decide whether to apply its default.
function forwardIfListened(internal: http.Server | http2.Http2Server, server: TlsServer): void {
  const emit = internal.emit;
  internal.emit = function forwardingEmit(this: unknown, event: string | symbol, ...args: unknown[]) {
    if (HANDLED_IF_LISTENED.has(event)) return server.emit(event, ...args);
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof internal.emit;
}
