import type * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { workloadApiDescriptor } from './workload-descriptor.js';

/** How the messages are decoded: the specification's field names, bytes as Buffers, defaults filled in. */
export const WORKLOAD_API_LOADER_OPTIONS = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
});

let cached: grpc.ServiceDefinition | undefined;

/**
 * The grpc-js service definition of `SpiffeWorkloadAPI`, for clients (`makeGenericClientConstructor`)
 * and for servers that implement the Workload API (tests, local development).
 *
 * @example
 * ```ts
 * const server = new grpc.Server();
 * server.addService(workloadApiService(), { FetchX509SVID: (call) => call.write(response) });
 * ```
 */
export function workloadApiService(): grpc.ServiceDefinition {
  if (!cached) {
    // The descriptor is plain data; its literal types are wider than protobuf.js's INamespace spells them.
    const definition = fromJSON(
      workloadApiDescriptor as Parameters<typeof fromJSON>[0],
      WORKLOAD_API_LOADER_OPTIONS,
    );
    cached = definition.SpiffeWorkloadAPI as grpc.ServiceDefinition;
  }
  return cached;
}
