import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { channels } from '@meshless/core';
import { sniffProtocol } from './protocol-sniffer.js';

const connectionChannel = diagnostics.channel(channels.connection);

// Events of the plaintext servers that belong to the application, re-emitted on the public server
// so that its listeners (and meshless's request guard) see plaintext requests like TLS ones.
const HTTP1_EVENTS = ['request', 'upgrade', 'checkContinue', 'checkExpectation', 'connect'] as const;

/**
 * Makes one port serve TLS and plaintext: each new connection's first bytes decide whether it goes
 * to the server's own TLS layer, to an internal HTTP/1.1 server, or (for an HTTP/2 server) to an
 * internal h2c server for prior-knowledge clients. Plaintext requests are re-emitted on `server`.
 */
export function servePlaintextToo(server: TlsServer, options: { http2: boolean; timeoutMs: number }): void {
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const http1 = http.createServer();
  for (const event of HTTP1_EVENTS) http1.on(event, (...args: unknown[]) => server.emit(event, ...args));
  const h2c = options.http2 ? http2.createServer() : undefined;
  h2c?.on('stream', (...args: unknown[]) => server.emit('stream', ...args));

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
        h2c.emit('connection', socket);
        return;
      }
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
