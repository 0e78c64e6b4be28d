import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const definition = loadSync(fileURLToPath(new URL('../proto/orders.proto', import.meta.url)), {
  keepCase: false,
  longs: String,
  defaults: true,
});

/** The generated-at-run-time constructor of the Orders service (its `.service` for servers). */
export const Orders = grpc.loadPackageDefinition(definition).shop.v1.Orders;
