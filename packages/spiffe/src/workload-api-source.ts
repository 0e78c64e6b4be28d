import { CertificateSourceBase, isMeshlessError, MeshlessError, type TlsMaterial } from '@meshless/core';
import { parseWorkloadApiAddress, type WorkloadApiAddress } from './address.js';
import { checkOptions, DEFAULT_STARTUP_TIMEOUT_MS, type WorkloadApiSourceOptions } from './options.js';
import type { X509SvidResponseMessage } from './proto/messages.js';
import { StreamRelay } from './relay.js';
import { readSnapshot } from './snapshot.js';
import { WorkloadApiStream } from './stream.js';
import { materialOf } from './svid-material.js';

/**
 * Where a {@link WorkloadApiSource} stands:
 * - `serving`: the stream is up and the picked SVID is granted;
 * - `reconnecting`: the agent is away; the last good SVID is served meanwhile;
 * - `withdrawn`: the agent denied the workload, or no longer grants the picked SVID; `current()` throws;
 * - `stopped`: the agent answered INVALID_ARGUMENT or UNIMPLEMENTED; no more attempts, the last good
 *   SVID is served until it expires;
 * - `closed`.
 */
export type WorkloadApiStatus = 'serving' | 'reconnecting' | 'withdrawn' | 'stopped' | 'closed';

/**
 * A {@link CertificateSource} fed by the SPIFFE Workload API (a SPIRE agent). Made by
 * {@link workloadApiSource}; see there.
 *
 * @example
 * ```ts
 * const source = await workloadApiSource();
 * source.status; // 'serving'
 * source.on('withdrawn', (err) => log.error(err.code, 'SVID withdrawn: refusing new connections'));
 * ```
 */
export class WorkloadApiSource extends CertificateSourceBase {
  readonly #stream: WorkloadApiStream;
  readonly #pick: WorkloadApiSourceOptions['pick'];
  #status: WorkloadApiStatus = 'serving';
  #inOutage = false;

  /** @internal use {@link workloadApiSource}, which waits for the first SVID. */
  constructor(
    initial: TlsMaterial,
    stream: WorkloadApiStream,
    relay: StreamRelay,
    options: WorkloadApiSourceOptions,
  ) {
    super(initial, { name: 'workload-api', ...options });
    this.#pick = options.pick;
    this.#stream = stream;
    relay.connect({
      response: (message) => this.#onResponse(message),
      outage: (error) => this.#onOutage(error),
      denied: (error) => this.#onWithdrawn(error),
      fatal: (error) => this.#onFatal(error),
    });
  }

  /** Where the source stands; see {@link WorkloadApiStatus}. */
  get status(): WorkloadApiStatus {
    return this.#status;
  }

  #onResponse(message: X509SvidResponseMessage): void {
    if (this.closed) return;
    this.#inOutage = false;
    let material: TlsMaterial;
    try {
      material = materialOf(readSnapshot(message), this.#pick);
    } catch (error) {
      if (isMeshlessError(error, 'ERR_MESHLESS_SVID_WITHDRAWN')) this.#onWithdrawn(error);
      else {
        // The agent is back, even if this response was refused: the last good material stays.
        if (this.#status === 'reconnecting') this.#status = 'serving';
        this.reject(asMeshlessError(error));
      }
      return;
    }
    this.#status = 'serving';
    this.offer(material);
  }

  // Once per outage: a flapping agent must not flood the logs with one error per attempt.
  #onOutage(error: MeshlessError): void {
    if (this.closed) return;
    if (this.#status === 'serving') this.#status = 'reconnecting';
    if (this.#inOutage) return;
    this.#inOutage = true;
    this.#report(error);
  }

  #onWithdrawn(error: MeshlessError): void {
    if (this.closed) return;
    this.#status = 'withdrawn';
    this.withdraw(error);
  }

  #onFatal(error: MeshlessError): void {
    if (this.closed) return;
    this.#status = 'stopped';
    this.#report(error);
  }

  // Not reject(): an unreachable agent is not refused material, and must not count as a rejected rotation.
  #report(error: MeshlessError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(`workload-api: ${error.message}`, { code: error.code });
  }

  protected override async onClose(): Promise<void> {
    this.#status = 'closed';
    this.#stream.close();
  }
}

/**
 * A certificate source fed by the SPIFFE Workload API: a client of a SPIRE agent (or any Workload API
 * server) over a Unix socket or TCP, streaming `FetchX509SVID` with the `workload.spiffe.io: true`
 * header. It resolves once the first usable SVID has arrived; each later response is a full
 * snapshot, applied as a rotation (`update`), federated bundles included (peers are then verified
 * against their own trust domain's bundle). When the agent goes away the last good SVID is served,
 * with the usual `expiring`/`expired` events, while the source reconnects with backoff.
 *
 * Failing closed: when the agent answers PERMISSION_DENIED, or a response no longer holds the picked
 * SVID, the material is withdrawn: `current()` throws, `withdrawn` and `error` are emitted, meshless
 * servers refuse new connections and clients cannot make new ones, until an SVID is granted again.
 *
 * @throws MeshlessError `ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID` (no or a bad address),
 * `ERR_MESHLESS_WORKLOAD_API_REFUSED` (INVALID_ARGUMENT or UNIMPLEMENTED),
 * `ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED` (denied until the timeout), or
 * `ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE` (no usable SVID within `startupTimeoutMs`; `cause` says why).
 * @example
 * ```ts
 * import { authorize } from '@meshless/core';
 * import { createServer } from '@meshless/server';
 * import { workloadApiSource } from '@meshless/spiffe';
 *
 * // SPIFFE_ENDPOINT_SOCKET=unix:///run/spire/agent-sockets/spire-agent.sock
 * const source = await workloadApiSource();
 * const server = createServer({ source, authorize: authorize.memberOf('example.org') }, app);
 * server.listen(8443);
 * ```
 */
export async function workloadApiSource(options: WorkloadApiSourceOptions = {}): Promise<WorkloadApiSource> {
  checkOptions(options);
  const address = parseWorkloadApiAddress(options.address);
  const { material, stream, relay } = await firstMaterial(address, options);
  return new WorkloadApiSource(material, stream, relay, options);
}

// Waits for the first response that yields valid material for the picked SVID. Until then a refused
// response, an outage or a denial is only remembered, as the reason to give if time runs out; only
// INVALID_ARGUMENT and UNIMPLEMENTED end the wait at once.
function firstMaterial(
  address: WorkloadApiAddress,
  options: WorkloadApiSourceOptions,
): Promise<{ material: TlsMaterial; stream: WorkloadApiStream; relay: StreamRelay }> {
  return new Promise((resolve, reject) => {
    let lastProblem: MeshlessError | undefined;
    const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    const fail = (error: MeshlessError) => {
      clearTimeout(timer);
      relay.hold();
      stream.close();
      reject(error);
    };
    const relay = new StreamRelay({
      response(message) {
        try {
          const material = materialOf(readSnapshot(message), options.pick);
          clearTimeout(timer);
          relay.hold();
          resolve({ material, stream, relay });
        } catch (error) {
          lastProblem = asMeshlessError(error);
        }
      },
      outage: (error) => {
        lastProblem = error;
      },
      denied: (error) => {
        lastProblem = error;
      },
      fatal: fail,
    });
    const stream = new WorkloadApiStream(address, relay, options.backoff);
    const timer = setTimeout(() => fail(timedOut(address, timeoutMs, lastProblem)), timeoutMs);
    stream.start();
  });
}

function timedOut(
  address: WorkloadApiAddress,
  timeoutMs: number,
  problem: MeshlessError | undefined,
): MeshlessError {
  if (problem?.code === 'ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED') return problem;
  return new MeshlessError(
    'ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE',
    `no usable SVID from the Workload API at ${address.address} within ${timeoutMs} ms${problem ? `: ${problem.message}` : ''}`,
    { address: address.address, reason: 'startup-timeout', ...(problem ? { cause: problem.code } : {}) },
    problem,
  );
}

function asMeshlessError(error: unknown): MeshlessError {
  if (error instanceof MeshlessError) return error;
  return new MeshlessError(
    'ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID',
    `Workload API response discarded: ${(error as Error)?.message ?? String(error)}`,
    { rule: 'unexpected' },
    error,
  );
}
