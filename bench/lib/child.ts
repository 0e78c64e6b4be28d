// Starting and stopping the benchmark's child processes (bench/processes, compiled by build.ts):
// each gets its configuration as JSON in argv[2] and talks over the IPC channel of fork().
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PROCESSES_DIR } from './build.js';
import type { GcSummary, LoadConfig, LoadResult, ServerConfig, ServerMessage } from './messages.js';
import { pinned, type Side } from './pinning.js';
import { underWrapper, type Wrapper } from './wrapper.js';

/**
 * Extra Node flags for the servers: BENCH_CPU_PROF=dir profiles them with --cpu-prof, and
 * BENCH_SERVER_FLAGS adds any others (space-separated, e.g. `--trace-gc`, whose lines start with
 * the server's pid).
 */
function serverExecArgv(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...extra];
}

function start(
  script: string,
  config: unknown,
  side: Side,
  execArgv: string[] = [],
  wrapper?: Wrapper,
): ChildProcess {
  // execArgv is set so that the children do not inherit vitest's worker flags. When pinning, fork
  // runs `taskset -c N node <flags> <script>`: taskset execs node in place, so the pid, the IPC
  // channel and the environment stay those fork set up. A wrapper (valgrind) runs node the same
  // way, in its own process, and takes the place of pinning.
  const [execPath, flags] = wrapper
    ? underWrapper(wrapper, process.execPath, execArgv)
    : pinned(side, process.execPath, execArgv);
  return fork(join(PROCESSES_DIR, `${script}.js`), [JSON.stringify(config)], {
    execPath,
    execArgv: flags,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A server running in its own process. */
export interface RunningServer {
  kind: ServerConfig['kind'];
  pid: number;
  port: number;
  child: ChildProcess;
  stats(): Promise<Extract<ServerMessage, { type: 'stats' }>>;
  /** Its garbage collections that started between two wall-clock times (ms since the epoch). */
  gcBetween(fromMs: number, toMs: number): Promise<GcSummary>;
  stop(): Promise<void>;
}

function nextMessage<T>(child: ChildProcess, type?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (type && message.type !== type) return;
      cleanup();
      resolve(message as T);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`child ${child.pid} exited (${code}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts a server process and waits until it listens; under `wrapper` when given (valgrind). */
export async function startServer(config: ServerConfig, wrapper?: Wrapper): Promise<RunningServer> {
  const child = start('server', config, 'server', serverExecArgv(), wrapper);
  const { port } = await nextMessage<{ port: number }>(child, 'ready');
  return {
    kind: config.kind,
    pid: child.pid!,
    port,
    child,
    stats: () => {
      const reply = nextMessage<Extract<ServerMessage, { type: 'stats' }>>(child, 'stats');
      child.send({ type: 'stats' });
      return reply;
    },
    gcBetween: async (fromMs, toMs) => {
      const reply = nextMessage<Extract<ServerMessage, { type: 'gc' }>>(child, 'gc');
      child.send({ type: 'gc', fromMs, toMs });
      const { type: _type, ...summary } = await reply;
      return summary;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** Runs a load or handshake generator to its end and returns what it reports. */
export async function runGenerator<T>(script: 'load' | 'handshakes', config: unknown): Promise<T> {
  const child = start(script, config, 'client');
  return await nextMessage<T>(child, 'result');
}

/**
 * Starts a load generator that measures until told to stop: `measuring` resolves after its warm-up,
 * `stop()` ends the window and returns its report.
 */
export function startOpenEndedLoad<T>(config: unknown): { measuring: Promise<void>; stop(): Promise<T> } {
  const child = start('load', { ...(config as object), durationMs: 0 }, 'client');
  const result = nextMessage<T>(child, 'result');
  const measuring = nextMessage<void>(child, 'measuring');
  return {
    measuring,
    stop: () => {
      child.send({ type: 'stop' });
      return result;
    },
  };
}

/** A load generator holding its connections between measurement windows. */
export interface LoadSession {
  /** The generator's process id (valgrind's, which is node's, when run under it). */
  pid: number;
  /** Measures one window: `warmupMs` of load, then `durationMs` measured. */
  window(warmupMs: number, durationMs: number): Promise<LoadResult>;
  stop(): Promise<void>;
}

/**
 * Starts a load generator in windows mode and waits until all its connections are open and warm;
 * under `wrapper` when given (valgrind).
 */
export async function startLoadSession(
  config: Omit<LoadConfig, 'windows'>,
  wrapper?: Wrapper,
): Promise<LoadSession> {
  const child = start('load', { ...config, windows: true }, 'client', [], wrapper);
  await nextMessage(child, 'ready');
  return {
    pid: child.pid!,
    window: (warmupMs, durationMs) => {
      const result = nextMessage<LoadResult>(child, 'result');
      child.send({ type: 'window', warmupMs, durationMs });
      return result;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ type: 'stop' });
      await exited;
    },
  };
}
