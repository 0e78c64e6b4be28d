// billing: a Fastify service that only orders may call.
import { authorize } from '@meshless/core';
import meshless, { fastifyServerOptions } from '@meshless/fastify';
import Fastify from 'fastify';

/**
 * Starts billing on `host:port` (port 0 picks a free one) with mutual TLS from `source`; only
 * `allowedCaller` gets an answer. Resolves with the app and its URL.
 */
export async function startBilling({ source, allowedCaller, host = '127.0.0.1', port = 0 }) {
  const app = Fastify({ ...fastifyServerOptions({ source }) });
  await app.register(meshless, { authorize: authorize.id(allowedCaller) });

  app.post('/charges', async (request) => {
    const socket = request.raw.socket;
    return {
      charged: true,
      caller: request.peer?.spiffeId?.toString(),
      tls: {
        version: socket.getProtocol(),
        cipher: socket.getCipher()?.name,
        resumed: socket.isSessionReused(),
      },
      servedBy: source.current().identity.serialNumber,
    };
  });
  // A health check that needs no identity (useful behind a permissive server during a rollout).
  app.get('/healthz', { config: { mtls: false } }, async () => ({ ok: true }));

  const url = await app.listen({ host, port });
  return { app, url };
}
