import type { SourceOptions } from '@meshless/core';
import type { BackoffOptions } from './backoff.js';
import { checkPick, type SvidPick } from './pick.js';

/**
 * Options of {@link workloadApiSource}.
 *
 * @example
 * ```ts
 * const options: WorkloadApiSourceOptions = {
 *   address: 'unix:///run/spire/agent-sockets/spire-agent.sock',
 *   pick: { spiffeId: 'spiffe://example.org/ns/prod/sa/web' },
 *   startupTimeoutMs: 30_000,
 * };
 * ```
 */
export interface WorkloadApiSourceOptions extends SourceOptions {
  /**
   * The Workload API: `unix:///path/to/agent.sock` or `tcp://IP:port`. Default: the
   * `SPIFFE_ENDPOINT_SOCKET` environment variable.
   */
  address?: string;
  /** Which SVID to serve when several are granted (by SPIFFE ID or hint). Default: the first. */
  pick?: SvidPick;
  /**
   * How long `workloadApiSource()` waits for the first usable SVID before it rejects. Default 30 000:
   * a new workload may wait for the agent to learn about its registration entry.
   */
  startupTimeoutMs?: number;
  /** Waits between reconnection attempts. Default 500 ms doubling to 30 s. */
  backoff?: BackoffOptions;
}

export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

/** Throws TypeError for options a source cannot start with. */
export function checkOptions(options: WorkloadApiSourceOptions): void {
  if (!options || typeof options !== 'object')
    throw new TypeError('workloadApiSource: options must be an object');
  checkPick(options.pick);
  const timeout = options.startupTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
    throw new TypeError('workloadApiSource: startupTimeoutMs must be a positive number of milliseconds');
  }
  if (options.backoff !== undefined && (options.backoff === null || typeof options.backoff !== 'object')) {
    throw new TypeError('workloadApiSource: backoff must be an object');
  }
}
