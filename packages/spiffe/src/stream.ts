import type * as grpc from '@grpc/grpc-js';
import type { MeshlessError } from '@meshless/core';
import type { WorkloadApiAddress } from './address.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { errorOfStatus, type WorkloadApiClient, workloadApiClient, workloadApiMetadata } from './client.js';
import type { X509SvidResponseMessage } from './proto/messages.js';

export { WORKLOAD_API_HEADER } from './client.js';

/** What the stream reports, one call per event. */
export interface StreamHandlers<M = X509SvidResponseMessage> {
  /** A response arrived (not yet decoded or checked). */
  response(message: M): void;
  /** The stream failed or ended; a new one is attempted after a backoff. */
  outage(error: MeshlessError): void;
  /** PERMISSION_DENIED: no SVID is granted; asked again after a backoff. */
  denied(error: MeshlessError): void;
  /** INVALID_ARGUMENT or UNIMPLEMENTED: the stream is given up, as the specification says. */
  fatal(error: MeshlessError): void;
}

/** The Workload API's server-streaming methods. */
export type StreamMethod = 'FetchX509SVID' | 'FetchX509Bundles' | 'FetchJWTBundles';

/**
 * One stream of `method` (FetchX509SVID unless told) at a time, for as long as it is open: a fresh
 * channel for each attempt (so no hidden channel backoff delays the return of a restarted agent),
 * exponential backoff between attempts, reset by each response.
 *
 * @example
 * ```ts
 * const stream = new WorkloadApiStream(parseWorkloadApiAddress(), handlers, { initialMs: 200 });
 * stream.start();
 * // later
 * stream.close();
 * ```
 */
export class WorkloadApiStream<M = X509SvidResponseMessage> {
  readonly #address: WorkloadApiAddress;
  readonly #handlers: StreamHandlers<M>;
  readonly #backoff: Backoff;
  readonly #method: StreamMethod;
  #client: WorkloadApiClient | undefined;
  #call: grpc.ClientReadableStream<M> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    address: WorkloadApiAddress,
    handlers: StreamHandlers<M>,
    backoff: BackoffOptions = {},
    method: StreamMethod = 'FetchX509SVID',
  ) {
    this.#address = address;
    this.#handlers = handlers;
    this.#backoff = new Backoff(backoff);
    this.#method = method;
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
    const client = workloadApiClient(this.#address);
    const call = client[this.#method]({}, workloadApiMetadata()) as grpc.ClientReadableStream<M>;
    this.#client = client;
    this.#call = call;
    call.on('data', (message: M) => {
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
    const error = errorOfStatus(status, this.#address);
    if (error.code === 'ERR_MESHLESS_WORKLOAD_API_REFUSED') {
      this.#closed = true;
      this.#handlers.fatal(error);
      return;
    }
    if (error.code === 'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED') this.#handlers.denied(error);
    else this.#handlers.outage(error);
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
