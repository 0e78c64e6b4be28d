import { grpcChannelCredentials } from '@meshless/spiffe';
import { ORDERS_ID } from './identities.mjs';
import { Orders } from './orders-proto.mjs';

/**
 * An Orders client that presents the SVID of `source` and accepts only a server whose SPIFFE ID is
 * `serverId`, whatever host name it is reached at.
 */
export function ordersClient({ source, target, serverId = ORDERS_ID }) {
  const client = new Orders(target, grpcChannelCredentials(source, { authorizeServer: serverId }), {
    // The server is identified by its SPIFFE ID, not its host name; this only sets the TLS server name.
    'grpc.ssl_target_name_override': 'orders',
  });
  return {
    place: (item, quantity = 1) =>
      new Promise((resolve, reject) =>
        client.place({ item, quantity }, { deadline: Date.now() + 5000 }, (error, reply) =>
          error ? reject(error) : resolve(reply),
        ),
      ),
    close: () => client.close(),
  };
}
