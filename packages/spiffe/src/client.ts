import * as grpc from '@grpc/grpc-js';
import { MeshlessError } from '@meshless/core';
import type { WorkloadApiAddress } from './address.js';
import { workloadApiService } from './proto/load.js';

/**
 * The header every Workload API request must carry (SPIFFE Workload Endpoint, "Transport"), with the
 * value `true`; a Workload API server refuses requests without it.
 *
 * @example
 * ```ts
 * const metadata = new grpc.Metadata();
 * metadata.set(WORKLOAD_API_HEADER, 'true');
 * ```
 */
export const WORKLOAD_API_HEADER = 'workload.spiffe.io';

type Streaming = (request: object, metadata: grpc.Metadata) => grpc.ClientReadableStream<unknown>;
type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

/** A grpc-js client of `SpiffeWorkloadAPI`, with the methods meshless calls. */
export type WorkloadApiClient = grpc.Client & {
  FetchX509SVID: Streaming;
  FetchX509Bundles: Streaming;
  FetchJWTBundles: Streaming;
  FetchJWTSVID: Unary;
};

let clientConstructor:
  | (new (
      target: string,
      credentials: grpc.ChannelCredentials,
      options?: object,
    ) => WorkloadApiClient)
  | undefined;

/**
 * A new Workload API client (its own channel) for `address`. The Workload API is a local, unsecured
 * transport by specification (a Unix socket, or loopback TCP); the caller closes the client.
 *
 * @example
 * ```ts
 * const client = workloadApiClient(parseWorkloadApiAddress());
 * const call = client.FetchJWTBundles({}, workloadApiMetadata());
 * ```
 */
export function workloadApiClient(address: WorkloadApiAddress): WorkloadApiClient {
  clientConstructor ??= grpc.makeGenericClientConstructor(
    workloadApiService(),
    'SpiffeWorkloadAPI',
  ) as unknown as typeof clientConstructor;
  return new clientConstructor!(address.target, grpc.credentials.createInsecure(), {
    // A Unix socket has no host name; this is what SPIRE and go-spiffe use as the authority.
    'grpc.default_authority': 'localhost',
  });
}

/**
 * The metadata of every Workload API call: the security header.
 *
 * @example
 * ```ts
 * client.FetchX509SVID({}, workloadApiMetadata());
 * ```
 */
export function workloadApiMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(WORKLOAD_API_HEADER, 'true');
  return metadata;
}

// Statuses after which asking again cannot help (SPIFFE Workload Endpoint, "Error Codes").
const FATAL = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED]);

/**
 * The MeshlessError for a Workload API call that ended with a non-OK status: `REFUSED` for
 * INVALID_ARGUMENT and UNIMPLEMENTED (do not retry), `PERMISSION_DENIED`, else `UNAVAILABLE`.
 *
 * @example
 * ```ts
 * call.on('status', (status) => status.code !== grpc.status.OK && report(errorOfStatus(status, address)));
 * ```
 */
export function errorOfStatus(status: grpc.StatusObject, address: WorkloadApiAddress): MeshlessError {
  const name = grpc.status[status.code] ?? String(status.code);
  const context = { grpcCode: name, address: address.address };
  const detail = status.details ? `: ${status.details}` : '';
  if (FATAL.has(status.code)) {
    return new MeshlessError(
      'ERR_MESHLESS_WORKLOAD_API_REFUSED',
      `the Workload API at ${address.address} answered ${name}${detail}; not retrying`,
      context,
    );
  }
  if (status.code === grpc.status.PERMISSION_DENIED) {
    return new MeshlessError(
      'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED',
      `the Workload API at ${address.address} grants this workload no SVID (PERMISSION_DENIED${detail})`,
      context,
    );
  }
  return new MeshlessError(
    'ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE',
    status.code === grpc.status.OK
      ? `the Workload API at ${address.address} ended the stream`
      : `the Workload API at ${address.address} is unavailable (${name}${detail})`,
    context,
  );
}
