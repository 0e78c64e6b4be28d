// A SPIFFE Workload API server for tests and local runs: grpc-js on a Unix socket in a temporary
// directory, serving FetchX509SVID with SVIDs made by @meshless/pki. Tests drive it like an agent's
// life: respond (rotate), answer with an error status, stop (the agent dies), restart on the same
// socket. Used by packages/spiffe's tests and by the examples' smoke tests.
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
  readonly address: string;
  /** How many FetchX509SVID calls were made (connection attempts of clients). */
  calls = 0;
  /** The value of the `workload.spiffe.io` header of each call. */
  readonly headers: (string | undefined)[] = [];
  #server: grpc.Server | undefined;
  readonly #streams = new Set<Stream>();
  #latest: X509SvidResponseMessage | undefined;
  #status: { code: grpc.status; details: string } | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.socketPath = join(dir, 'agent.sock');
    this.address = `unix://${this.socketPath}`;
  }

  static async start(): Promise<TestWorkloadApi> {
    const api = new TestWorkloadApi(await mkdtemp(join(tmpdir(), 'meshless-wl-')));
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
   * Ends every open stream with `code`, and answers each later call with it too, until the next
   * `respond()` or `answerNormally()`.
   */
  answerWith(code: grpc.status, details = grpc.status[code] ?? 'error'): void {
    this.#status = { code, details };
    for (const stream of [...this.#streams]) this.#end(stream, this.#status);
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
    server?.forceShutdown();
    await rm(this.socketPath, { force: true });
  }

  /** Starts (again) on the same socket path, as a restarted agent does. */
  async restart(): Promise<void> {
    await this.stop();
    const server = new grpc.Server();
    server.addService(workloadApiService(), {
      FetchX509SVID: (call: Stream) => this.#fetch(call),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(this.address, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.#server = server;
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  #fetch(call: Stream): void {
    this.calls++;
    const header = call.metadata.get('workload.spiffe.io')[0]?.toString();
    this.headers.push(header);
    // As SPIRE: a request without the security header is refused.
    if (header !== 'true') {
      this.#end(call, {
        code: grpc.status.INVALID_ARGUMENT,
        details: 'security header missing from request',
      });
      return;
    }
    if (this.#status) {
      this.#end(call, this.#status);
      return;
    }
    this.#streams.add(call);
    call.on('cancelled', () => this.#streams.delete(call));
    call.on('close', () => this.#streams.delete(call));
    if (this.#latest) call.write(this.#latest);
  }

  #end(call: Stream, status: { code: grpc.status; details: string }): void {
    this.#streams.delete(call);
    call.emit('error', { code: status.code, details: status.details, metadata: new grpc.Metadata() });
  }
}
