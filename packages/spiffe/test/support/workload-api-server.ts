// A SPIFFE Workload API server for tests and local runs: grpc-js on a Unix socket in a temporary
// directory (or loopback TCP), serving FetchX509SVID (SVIDs made by @meshless/pki), FetchJWTSVID and
// FetchJWTBundles, and recording every call. Tests drive it like an agent's life: respond (rotate),
// answer with an error status, stop (the agent dies), restart on the same socket. Used by
// packages/spiffe's tests and by the examples' smoke tests.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { workloadApiService } from '../../src/proto/load.js';
import type { X509SvidMessage, X509SvidResponseMessage } from '../../src/proto/messages.js';

/** What a test describes an SVID with: PEM, as @meshless/pki issues it. */
export interface TestSvid {
  spiffeId: string;
  /** The leaf first, then intermediates (pki's `chainPem`). */
  chainPem: string;
  keyPem: string;
  /** The trust domain's bundle (pki's `caPem`). */
  caPem: string;
  hint?: string;
}

/** A response as a test describes it; `federatedBundles` by trust domain (`b.org`) as PEM. */
export interface TestResponse {
  svids: TestSvid[];
  federatedBundles?: Record<string, string>;
}

/** Concatenated DER of every certificate in PEM text, as the Workload API sends chains and bundles. */
export function pemToDer(pem: string): Buffer {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return Buffer.concat(blocks.map((block) => new X509Certificate(block).raw));
}

/** A Workload API response message from test SVIDs. */
export function responseOf(response: TestResponse): X509SvidResponseMessage {
  return {
    svids: response.svids.map(
      (svid): X509SvidMessage => ({
        spiffe_id: svid.spiffeId,
        x509_svid: pemToDer(svid.chainPem),
        x509_svid_key: createPrivateKey(svid.keyPem).export({ type: 'pkcs8', format: 'der' }),
        bundle: pemToDer(svid.caPem),
        hint: svid.hint ?? '',
      }),
    ),
    crl: [],
    federated_bundles: Object.fromEntries(
      Object.entries(response.federatedBundles ?? {}).map(([td, pem]) => [`spiffe://${td}`, pemToDer(pem)]),
    ),
  };
}

type Stream = grpc.ServerWritableStream<object, X509SvidResponseMessage>;
type BundleStream = grpc.ServerWritableStream<object, { bundles: Record<string, Buffer> }>;
type Status = { code: grpc.status; details: string };

/** One Workload API call as the server saw it: what conformance tests assert on. */
export interface CallRecord {
  method: 'FetchX509SVID' | 'FetchJWTSVID' | 'FetchJWTBundles' | 'FetchX509Bundles' | 'ValidateJWTSVID';
  /** The `workload.spiffe.io` header, as sent. */
  header: string | undefined;
  request: Record<string, unknown>;
  /** When the call arrived (Date.now()). */
  at: number;
  /** The error status the call was answered with, if any. */
  status?: grpc.status;
}

/** A FetchJWTSVID answer: the JWT-SVIDs to return, or an error status. */
export type JwtSvidAnswer =
  | { svids: { spiffe_id: string; svid: string; hint?: string }[] }
  | { status: grpc.status; details?: string };

/**
 * The test Workload API server. `address` is what `workloadApiSource({ address })` takes.
 *
 * @example
 * ```ts
 * const agent = await TestWorkloadApi.start();
 * agent.respond({ svids: [{ spiffeId, ...issued }] });
 * const source = await workloadApiSource({ address: agent.address });
 * await agent.stop();      // the agent goes away
 * await agent.restart();   // and comes back on the same socket
 * await agent.close();
 * ```
 */
export class TestWorkloadApi {
  readonly dir: string;
  readonly socketPath: string;
  /** `unix:///…/agent.sock`, or `tcp://127.0.0.1:PORT` for a server started with `{ tcp: true }`. */
  address: string;
  readonly #tcp: boolean;
  /** How many FetchX509SVID calls were made (connection attempts of clients). */
  calls = 0;
  /** The value of the `workload.spiffe.io` header of each FetchX509SVID call. */
  readonly headers: (string | undefined)[] = [];
  /** Every call of every method, in order. */
  readonly records: CallRecord[] = [];
  /** How FetchJWTSVID answers a request (audience, spiffe_id). */
  jwtSvids: (request: { audience: string[]; spiffe_id: string }) => JwtSvidAnswer = () => ({
    status: grpc.status.PERMISSION_DENIED,
    details: 'no JWT-SVID registered',
  });
  #server: grpc.Server | undefined;
  readonly #streams = new Set<Stream>();
  readonly #bundleStreams = new Set<BundleStream>();
  #latest: X509SvidResponseMessage | undefined;
  #latestJwtBundles: { bundles: Record<string, Buffer> } | undefined;
  #status: Status | undefined;

  private constructor(dir: string, tcp: boolean) {
    this.dir = dir;
    this.socketPath = join(dir, 'agent.sock');
    this.address = tcp ? 'tcp://127.0.0.1:0' : `unix://${this.socketPath}`;
    this.#tcp = tcp;
  }

  /** Starts on a Unix socket in a new temporary directory, or with `tcp` on 127.0.0.1 (port 0). */
  static async start(options: { tcp?: boolean } = {}): Promise<TestWorkloadApi> {
    const api = new TestWorkloadApi(await mkdtemp(join(tmpdir(), 'meshless-wl-')), options.tcp === true);
    await api.restart();
    return api;
  }

  /** How many streams are open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Sends a response to every open stream, and to each stream opened later (until the next one). */
  respond(response: TestResponse | X509SvidResponseMessage): void {
    this.#latest = 'crl' in response ? response : responseOf(response);
    this.#status = undefined;
    for (const stream of this.#streams) stream.write(this.#latest);
  }

  /**
   * Sends JWT bundles (JWK Set JSON by trust domain name, `example.org`) to every open FetchJWTBundles
   * stream and to each one opened later.
   */
  respondJwtBundles(bundles: Record<string, string>): void {
    this.#latestJwtBundles = {
      bundles: Object.fromEntries(
        Object.entries(bundles).map(([td, json]) => [`spiffe://${td}`, Buffer.from(json)]),
      ),
    };
    for (const stream of this.#bundleStreams) stream.write(this.#latestJwtBundles);
  }

  /**
   * Ends every open stream (of every method) with `code`, and answers each later call of any method
   * with it too, until the next `respond()` or `answerNormally()`.
   */
  answerWith(code: grpc.status, details = grpc.status[code] ?? 'error'): void {
    this.#status = { code, details };
    for (const stream of [...this.#streams]) this.#end(stream, this.#status);
    for (const stream of [...this.#bundleStreams]) this.#end(stream, this.#status);
  }

  /** Stops answering with an error status; later calls get the latest response again. */
  answerNormally(): void {
    this.#status = undefined;
  }

  /** Ends every open stream with OK, as a server that finishes a stream; clients must reconnect. */
  endStreams(): void {
    for (const stream of [...this.#streams]) {
      this.#streams.delete(stream);
      stream.end();
    }
  }

  /** The agent dies: every connection is cut and the socket goes away. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#streams.clear();
    this.#bundleStreams.clear();
    server?.forceShutdown();
    await rm(this.socketPath, { force: true });
  }

  /** Starts (again) on the same socket path, as a restarted agent does. */
  async restart(): Promise<void> {
    await this.stop();
    const server = new grpc.Server();
    server.addService(workloadApiService(), {
      FetchX509SVID: (call: Stream) => this.#fetch(call),
      FetchJWTBundles: (call: BundleStream) => this.#fetchJwtBundles(call),
      FetchJWTSVID: (
        call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, object>,
        callback: grpc.sendUnaryData<object>,
      ) => this.#fetchJwtSvid(call, callback),
      ValidateJWTSVID: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
        // meshless validates locally; a call here is recorded so that tests can prove none is made.
        this.#record('ValidateJWTSVID', call, grpc.status.UNIMPLEMENTED);
        callback({ code: grpc.status.UNIMPLEMENTED, details: 'not served by the test Workload API' });
      },
    });
    // On TCP the first bind picks a port; a restart takes the same one again.
    const target = this.#tcp ? this.address.replace('tcp://', '') : this.address;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    if (this.#tcp) this.address = `tcp://127.0.0.1:${port}`;
    this.#server = server;
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  #record(
    method: CallRecord['method'],
    call: { metadata: grpc.Metadata; request?: unknown },
    status?: grpc.status,
  ): CallRecord {
    const header = call.metadata.get('workload.spiffe.io')[0]?.toString();
    const record: CallRecord = {
      method,
      header,
      request: { ...((call.request as Record<string, unknown>) ?? {}) },
      at: Date.now(),
      ...(status === undefined ? {} : { status }),
    };
    this.records.push(record);
    return record;
  }

  // As SPIRE: a request without the security header is refused; then any error status set by a test.
  #refusal(record: CallRecord): Status | undefined {
    const status =
      record.header !== 'true'
        ? { code: grpc.status.INVALID_ARGUMENT, details: 'security header missing from request' }
        : this.#status;
    if (status) record.status = status.code;
    return status;
  }

  #fetchJwtBundles(call: BundleStream): void {
    const refusal = this.#refusal(this.#record('FetchJWTBundles', call));
    if (refusal) {
      this.#end(call, refusal);
      return;
    }
    this.#bundleStreams.add(call);
    call.on('cancelled', () => this.#bundleStreams.delete(call));
    call.on('close', () => this.#bundleStreams.delete(call));
    if (this.#latestJwtBundles) call.write(this.#latestJwtBundles);
  }

  #fetchJwtSvid(
    call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, object>,
    callback: grpc.sendUnaryData<object>,
  ): void {
    const record = this.#record('FetchJWTSVID', call);
    const refusal = this.#refusal(record);
    if (refusal) {
      callback({ code: refusal.code, details: refusal.details });
      return;
    }
    const answer = this.jwtSvids(call.request);
    if ('status' in answer) {
      record.status = answer.status;
      callback({ code: answer.status, details: answer.details ?? grpc.status[answer.status] ?? 'error' });
      return;
    }
    callback(null, { svids: answer.svids.map((svid) => ({ hint: '', ...svid })) });
  }

  #fetch(call: Stream): void {
    this.calls++;
    const record = this.#record('FetchX509SVID', call);
    this.headers.push(record.header);
    const refusal = this.#refusal(record);
    if (refusal) {
      this.#end(call, refusal);
      return;
    }
    this.#streams.add(call);
    call.on('cancelled', () => this.#streams.delete(call));
    call.on('close', () => this.#streams.delete(call));
    if (this.#latest) call.write(this.#latest);
  }

  #end(call: Stream | BundleStream, status: Status): void {
    this.#streams.delete(call as Stream);
    this.#bundleStreams.delete(call as BundleStream);
    call.emit('error', { code: status.code, details: status.details, metadata: new grpc.Metadata() });
  }
}
