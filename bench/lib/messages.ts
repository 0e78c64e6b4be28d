// What the benchmark's processes tell each other over their IPC channels. The orchestrating bench
// file starts servers and load generators with fork(); each child gets its configuration as JSON in
// argv[2] and answers with these messages.
import type { CertFiles } from './certs.js';

/** The servers a scenario can start, each in its own process. */
export type ServerKind =
  /** node:http, no TLS: the floor. */
  | 'http'
  /** Hand-written node:https with requestCert and the same peer check as meshless, read once per connection. */
  | 'https'
  /** The same, reading getPeerCertificate() on every request: the mistake the design warns about, measured. */
  | 'https-per-request'
  /** meshless createServer, strict, authorize.id(client), peerOf() on each request. */
  | 'meshless'
  /** meshless createServer in permissive mode (first-byte sniffing), reached over mTLS. */
  | 'permissive'
  /** node:http behind nginx: reads the peer from the header nginx sets, as a sidecar's app does. */
  | 'sidecar-app'
  /** Bare node:tls with requestCert, for handshakes. */
  | 'tls'
  /** meshless createServer on a @meshless/watcher source over a secret volume, for rotation. */
  | 'meshless-watch';

export interface ServerConfig {
  kind: ServerKind;
  certs?: CertFiles;
  /** The secret volume directory (cert-manager layout) for `meshless-watch`. */
  watchDir?: string;
  /** Modules to import before starting, to see what loading a dependency alone costs (memory, CPU). */
  preload?: string[];
}

/**
 * A server's garbage collections that started within a span of time, from Node's `gc` performance
 * entries: scavenges (minor) and mark-compacts (major), how many and how long the thread paused.
 */
export interface GcSummary {
  scavenges: number;
  scavengeMs: number;
  majors: number;
  majorMs: number;
  /** The longest single pause of any kind. */
  maxPauseMs: number;
}

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'stats'; connections: number; resumed: number; tlsErrors: number; serial?: string }
  | ({ type: 'gc' } & GcSummary);

/** `gc` asks for the collections that started between two wall-clock times (ms since the epoch). */
export type ParentMessage =
  | { type: 'stats' }
  | { type: 'gc'; fromMs: number; toMs: number }
  | { type: 'stop' };

/**
 * Which client the load generator drives: a raw undici Agent given `cert`, `key` and `ca` (Node then
 * builds a secure context for every connection), the same with one secure context built up front
 * (what a careful hand-written client does), or meshless's createAgent.
 */
export type ClientKind = 'undici' | 'undici-context' | 'meshless';

export interface LoadConfig {
  /** `http://` or `https://127.0.0.1:<port>/`. */
  url: string;
  connections: number;
  warmupMs: number;
  /** The measured window; 0 measures until the parent sends `{ type: 'stop' }`. */
  durationMs: number;
  client: ClientKind;
  certs?: CertFiles;
  /** Every server-side process, whose CPU and memory are read at the edges of the window. */
  serverPids: number[];
  /** A new connection (a TLS handshake) per request. */
  reset?: boolean;
  /** TLS sessions the client keeps; 0 makes every handshake a full one. */
  maxCachedSessions?: number;
  /** Close the connection after every Nth request of each worker, so that new connections keep coming. */
  resetEvery?: number;
  /** Connect, then measure a window each time the parent sends `window` (see startLoadSession). */
  windows?: boolean;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export type LoadMessage = { type: 'ready' } | { type: 'measuring' } | ({ type: 'result' } & LoadResult);

export type LoadParentMessage = { type: 'window'; warmupMs: number; durationMs: number } | { type: 'stop' };

export interface LoadResult {
  requests: number;
  /** Requests answered with 200 since the generator started, in every window and between them. */
  answered: number;
  /** Requests that failed since the generator started, in every window and between them. */
  failed: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  /** Milliseconds, from dispatch to the end of the response body. */
  latencyMs: LatencySummary;
  serverCpuUs: number;
  serverCpuPerRequestUs: number;
  clientCpuPerRequestUs: number;
  /** Resident memory of each server process at the end of the window, connections still open. */
  serverRssKb: number[];
  /** The same as proportional set size (shared pages divided among the processes sharing them). */
  serverPssKb: number[];
  /** Workers that had made their first requests when the warm-up ended (all of them, normally). */
  warmWorkers: number;
  /** Milliseconds until every worker had its connection and its first requests answered. */
  connectMs: number;
  /** Connections opened during the window: 0 in steady state, where every request reuses one. */
  newConnections: number;
  /** When the measured window started and ended, in ms since the epoch (to line server events up with it). */
  windowFromMs: number;
  windowToMs: number;
  /** The load generator's own garbage collections during the window. */
  clientGc: GcSummary;
  /** The Node server processes' garbage collections during the window, when the scenario asks for them. */
  serverGc?: GcSummary;
}

export interface HandshakeConfig {
  host: string;
  port: number;
  servername?: string;
  certs: CertFiles;
  /** Offer the last session ticket, so that the server resumes instead of a full handshake. */
  resume: boolean;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  serverPids: number[];
}

export interface HandshakeResult {
  handshakes: number;
  resumed: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  serverCpuPerHandshakeUs: number;
  clientCpuPerHandshakeUs: number;
  protocol?: string;
  cipher?: string;
}

/** The servers of bench/churn.bench.ts. */
export type ChurnServerKind = 'meshless' | 'https' | 'https-x509';

export interface ChurnServerConfig {
  kind: ChurnServerKind;
  certs: CertFiles;
}

export type ChurnServerMessage = { type: 'listening'; port: number } | { type: 'sample'; rssKb: number };

export interface ChurnClientConfig {
  port: number;
  concurrency: number;
  certs: CertFiles;
}

export type ChurnClientMessage = { type: 'ready' } | { type: 'ran'; failed: number };
