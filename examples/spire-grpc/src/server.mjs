import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { authorize } from '@meshless/core';
import { grpcPeerOf, grpcServerCredentials } from '@meshless/spiffe';
import { FRONTEND_ID } from './identities.mjs';
import { Orders } from './orders-proto.mjs';

/**
 * Starts the orders gRPC server. Its certificate, key and trust bundle come from `source` (a
 * workloadApiSource in production) and rotate with it; only `allowedCaller` may call Place: any other
 * verified client gets PERMISSION_DENIED, a client without a valid SVID never completes the handshake.
 */
export async function startOrdersServer({
  source,
  allowedCaller = FRONTEND_ID,
  host = '0.0.0.0',
  port = 8443,
}) {
  const server = new grpc.Server();
  server.addService(Orders.service, {
    place(call, callback) {
      const caller = grpcPeerOf(call);
      callback(null, { orderId: randomUUID(), placedBy: String(caller?.spiffeId) });
    },
  });
  const credentials = grpcServerCredentials(source, { authorize: authorize.id(allowedCaller) });
  const bound = await new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, credentials, (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return {
    port: bound,
    server,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
