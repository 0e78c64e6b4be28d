import * as grpc from '@grpc/grpc-js';
import { MeshlessError } from '@meshless/core';
import type { WorkloadApiAddress } from './address.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { workloadApiService } from './proto/load.js';
import type { X509SvidResponseMessage } from './proto/messages.js';

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

/** What the stream reports, one call per event. */
export interface StreamHandlers {
  /** A response arrived (not yet decoded or checked). */
  response(message: X509SvidResponseMessage): void;
  /** The stream failed or ended; a new one is attempted after a backoff. */
  outage(error: MeshlessError): void;
  /** PERMISSION_DENIED: no SVID is granted; asked again after a backoff. */
  denied(error: MeshlessError): void;
  /** INVALID_ARGUMENT or UNIMPLEMENTED: the stream is given up, as the specification says. */
  fatal(error: MeshlessError): void;
}

// Statuses after which asking again cannot help (SPIFFE Workload Endpoint, "Error Codes").
const FATAL = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED]);

type Client = grpc.Client & {
  FetchX509SVID(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<X509SvidResponseMessage>;
};
let clientConstructor:
  | (new (
      target: string,
      credentials: grpc.ChannelCredentials,
      options?: object,
    ) => Client)
  | undefined;

/**
 * One FetchX509SVID stream at a time, for as long as it is open: a fresh channel for each attempt (so
 * no hidden channel backoff delays the return of a restarted agent), exponential backoff between
 * attempts, reset by each response.
 *
 * @example
 * ```ts
 * const stream = new WorkloadApiStream(parseWorkloadApiAddress(), handlers, { initialMs: 200 });
 * stream.start();
 * // later
 * stream.close();
 * ```
 */
export class WorkloadApiStream {
  readonly #address: WorkloadApiAddress;
  readonly #handlers: StreamHandlers;
  readonly #backoff: Backoff;
  #client: Client | undefined;
  #call: grpc.ClientReadableStream<X509SvidResponseMessage> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(address: WorkloadApiAddress, handlers: StreamHandlers, backoff: BackoffOptions = {}) {
    this.#address = address;
    this.#handlers = handlers;
    this.#backoff = new Backoff(backoff);
  }

  start(): void {
    if (this.#closed || this.#call || this.#timer) return;
    this.#open();
  }

  /** Cancels the stream and any pending attempt; idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dropCall();
  }

  #open(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    clientConstructor ??= grpc.makeGenericClientConstructor(
      workloadApiService(),
      'SpiffeWorkloadAPI',
    ) as unknown as typeof clientConstructor;
    const client = new clientConstructor!(this.#address.target, grpc.credentials.createInsecure(), {
      // A Unix socket has no host name; this is what SPIRE and go-spiffe use as the authority.
      'grpc.default_authority': 'localhost',
    });
    const metadata = new grpc.Metadata();
    metadata.set(WORKLOAD_API_HEADER, 'true');
    const call = client.FetchX509SVID({}, metadata);
    this.#client = client;
    this.#call = call;
    call.on('data', (message: X509SvidResponseMessage) => {
      if (this.#call !== call) return;
      this.#backoff.reset();
      this.#handlers.response(message);
    });
    // The 'status' event carries every ending, OK included; 'error' repeats the non-OK ones.
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      if (this.#call !== call) return;
      this.#dropCall();
      this.#ended(status);
    });
  }

  #ended(status: grpc.StatusObject): void {
    if (this.#closed) return;
    const name = grpc.status[status.code] ?? String(status.code);
    const context = { grpcCode: name, address: this.#address.address };
    const detail = status.details ? `: ${status.details}` : '';
    if (FATAL.has(status.code)) {
      this.#closed = true;
      this.#handlers.fatal(
        new MeshlessError(
          'ERR_MESHLESS_WORKLOAD_API_REFUSED',
          `the Workload API at ${this.#address.address} answered ${name}${detail}; not retrying`,
          context,
        ),
      );
      return;
    }
    if (status.code === grpc.status.PERMISSION_DENIED) {
      this.#handlers.denied(
        new MeshlessError(
          'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED',
          `the Workload API at ${this.#address.address} grants this workload no SVID (PERMISSION_DENIED${detail})`,
          context,
        ),
      );
    } else {
      this.#handlers.outage(
        new MeshlessError(
          'ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE',
          status.code === grpc.status.OK
            ? `the Workload API at ${this.#address.address} ended the stream`
            : `the Workload API at ${this.#address.address} is unavailable (${name}${detail})`,
          context,
        ),
      );
    }
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#open(), this.#backoff.next());
    // The retry alone must not keep a process alive; the service using the source does.
    this.#timer.unref();
  }

  #dropCall(): void {
    const call = this.#call;
    const client = this.#client;
    this.#call = undefined;
    this.#client = undefined;
    call?.cancel();
    client?.close();
  }
}
