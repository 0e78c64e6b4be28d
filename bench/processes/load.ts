// The HTTP load generator: a closed loop of `connections` workers, each with one request in flight
// on its own keep-alive connection (undici, pipelining 1), in its own process so that its CPU is
// not the server's. A window reads the servers' CPU from /proc, records every request's latency,
// reads the CPU again and reports over IPC.
//
// Three ways to run: one fixed window then exit (durationMs > 0); one window until the parent sends
// `stop` (durationMs 0); or, with `windows`, connect, pause, and then measure a window each time the
// parent asks, keeping the connections between windows, so that a benchmark can alternate short
// windows of several configurations without paying for connection set-up each time.
import { readFileSync } from 'node:fs';
import { createHistogram, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import type { LoadConfig, LoadMessage, LoadParentMessage, LoadResult } from '../lib/messages.js';
import { cpuMicros, pssKb, rssKb, totalCpuMicros } from '../lib/proc.js';
import { gcBetween, recordGcPauses } from './gc-recorder.js';

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const url = new URL(config.url);
// Idle connections must survive between two windows of the same configuration.
const KEEP_ALIVE_MS = 120_000;

async function dispatcher(): Promise<Dispatcher> {
  const base = {
    connections: config.connections,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
  };
  const certs = config.certs;
  if (url.protocol === 'http:' || !certs) return new Agent(base);
  const cert = readFileSync(certs.clientCert, 'utf8');
  const key = readFileSync(certs.clientKey, 'utf8');
  const ca = readFileSync(certs.ca, 'utf8');
  const maxCachedSessions = config.maxCachedSessions;
  const sessions = maxCachedSessions !== undefined ? { maxCachedSessions } : {};
  // What a hand-written client does: the same certificate and trust bundle, the usual host name
  // check against the server certificate's SANs (it names 127.0.0.1).
  if (config.client === 'undici') return new Agent({ ...base, connect: { cert, key, ca, ...sessions } });
  if (config.client === 'undici-context') {
    const secureContext = tls.createSecureContext({ cert, key, ca });
    return new Agent({ ...base, connect: { secureContext, ...sessions } });
  }
  const { loadMaterial, staticSource } = await import('@meshless/core');
  const { createAgent } = await import('@meshless/client');
  return createAgent({
    ...base,
    source: staticSource(loadMaterial({ cert, key, ca })),
    authorizeServer: certs.serverId,
    ...(maxCachedSessions !== undefined ? { connect: { maxCachedSessions } } : {}),
  });
}

function send(message: LoadMessage): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(message, () => resolve()) : resolve()));
}

recordGcPauses();
const agent = await dispatcher();
const histogram = createHistogram();
let measuring = false;
let stopped = false;
let paused = false;
let resume: () => void = () => {};
let resumed = Promise.resolve();
let inFlight = 0;
let onIdle: (() => void) | undefined;
let requests = 0;
// Every request answered since the generator started, measured or not: between two windows the
// generator is paused with nothing in flight, so the difference of two reports' totals is exactly
// the requests the server handled in between (what the instructions scenario divides by).
let answered = 0;
let failed = 0;
let errors = 0;
let firstError: string | undefined;
let newConnections = 0;
(agent as unknown as NodeJS.EventEmitter).on('connect', () => {
  if (measuring) newConnections++;
});
// Built once: the generator must not allocate per request more than the client library does.
const keepAlive: Dispatcher.RequestOptions = { origin: url.origin, path: url.pathname, method: 'GET' };
const closing: Dispatcher.RequestOptions = { ...keepAlive, reset: true };

// The first window starts once every worker has its connection and has made a few requests on it
// (with 256 TLS connections on a busy 2-core machine, the handshakes alone can take seconds).
const WARM_REQUESTS = 3;
let warmWorkers = 0;
let onAllWarm: () => void = () => {};
const allWarm = new Promise<void>((resolve) => {
  onAllWarm = resolve;
});

async function worker(): Promise<void> {
  let sent = 0;
  let succeeded = 0;
  while (!stopped) {
    if (paused) {
      await resumed;
      continue;
    }
    sent++;
    const reset = config.reset || (config.resetEvery !== undefined && sent % config.resetEvery === 0);
    const started = performance.now();
    inFlight++;
    try {
      const { statusCode, body } = await agent.request(reset ? closing : keepAlive);
      await body.dump();
      if (statusCode !== 200) throw new Error(`status ${statusCode}`);
      answered++;
      if (++succeeded === WARM_REQUESTS && ++warmWorkers === config.connections) onAllWarm();
      if (measuring) {
        histogram.record(Math.max(1, Math.round((performance.now() - started) * 1e6)));
        requests++;
      }
    } catch (error) {
      failed++;
      if (measuring) errors++;
      firstError ??= String((error as Error).cause ?? error);
      // A server that refuses at once would turn the loop into a busy spin.
      await sleep(10);
    } finally {
      if (--inFlight === 0 && paused) onIdle?.();
    }
  }
}

/** Stops sending and waits for the requests in flight, keeping the connections. */
async function pause(): Promise<void> {
  paused = true;
  resumed = new Promise((resolve) => {
    resume = resolve;
  });
  if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve));
  onIdle = undefined;
}

function unpause(): void {
  paused = false;
  resume();
}

/** One window: `warmupMs` of load, then measurement until `end` resolves. */
async function window(warmupMs: number, end: () => Promise<unknown>): Promise<LoadResult> {
  unpause();
  await sleep(warmupMs);
  histogram.reset();
  requests = 0;
  errors = 0;
  newConnections = 0;
  measuring = true;
  const startedAt = performance.now();
  const windowFromMs = performance.timeOrigin + startedAt;
  const serverCpuBefore = totalCpuMicros(config.serverPids);
  const clientCpuBefore = cpuMicros(process.pid);
  await send({ type: 'measuring' });
  await end();
  const serverCpuAfter = totalCpuMicros(config.serverPids);
  const clientCpuAfter = cpuMicros(process.pid);
  const endedAt = performance.now();
  const windowToMs = performance.timeOrigin + endedAt;
  const seconds = (endedAt - startedAt) / 1000;
  measuring = false;
  // Read while every connection is still open: the servers' memory under load.
  const serverRssKb = config.serverPids.map(rssKb);
  const serverPssKb = config.serverPids.map(pssKb);
  await pause();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const serverCpuUs = serverCpuAfter - serverCpuBefore;
  return {
    requests,
    answered,
    failed,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds,
    perSecond: requests / seconds,
    latencyMs: {
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
    },
    serverCpuUs,
    serverCpuPerRequestUs: requests ? serverCpuUs / requests : 0,
    clientCpuPerRequestUs: requests ? (clientCpuAfter - clientCpuBefore) / requests : 0,
    serverRssKb,
    serverPssKb,
    warmWorkers,
    connectMs,
    newConnections,
    windowFromMs,
    windowToMs,
    clientGc: gcBetween(windowFromMs, windowToMs),
  };
}

const messages: LoadParentMessage[] = [];
let onMessage: (() => void) | undefined;
process.on('message', (message: LoadParentMessage) => {
  messages.push(message);
  onMessage?.();
});
async function nextMessage(): Promise<LoadParentMessage> {
  while (messages.length === 0) await new Promise<void>((resolve) => (onMessage = resolve));
  return messages.shift()!;
}

const workers = Array.from({ length: config.connections }, () => worker());
const warmStarted = performance.now();
// Bounded, so that a server that never answers some workers still gets a report (with errors).
await Promise.race([allWarm, sleep(60_000)]);
const connectMs = performance.now() - warmStarted;

if (config.windows) {
  // Half a second of load before the first window, for the JIT of client and server alike (each
  // window has its own short re-warm too).
  await sleep(500);
  await pause();
  await send({ type: 'ready' });
  for (;;) {
    const message = await nextMessage();
    if (message.type === 'stop') break;
    if (message.type === 'window') {
      const result = await window(message.warmupMs, () => sleep(message.durationMs));
      await send({ type: 'result', ...result });
    }
  }
} else {
  const end =
    config.durationMs > 0
      ? () => sleep(config.durationMs)
      : async () => {
          while ((await nextMessage()).type !== 'stop');
        };
  const result = await window(config.warmupMs, end);
  await send({ type: 'result', ...result });
}
stopped = true;
unpause();
await Promise.allSettled(workers);
await agent.destroy();
process.exit(0);
