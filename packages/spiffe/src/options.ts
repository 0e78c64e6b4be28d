import { assertKnownOptions, assertOptionsObject, invalidOption, type SourceOptions } from '@meshless/core';
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

const WHERE = 'workloadApiSource';
const KEYS = ['address', 'pick', 'startupTimeoutMs', 'backoff', 'name', 'expiringFraction'];

/**
 * Throws `ERR_MESHLESS_INVALID_OPTION` for options a source cannot start with, unknown keys included.
 *
 * @example
 * ```ts
 * checkOptions({ address: 'unix:///run/spire/agent.sock', startupTimeoutMs: 5_000 });
 * ```
 */
export function checkOptions(options: WorkloadApiSourceOptions): void {
  assertOptionsObject(WHERE, options);
  assertKnownOptions(WHERE, options, KEYS);
  checkPick(options.pick);
  const timeout = options.startupTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
    throw invalidOption(WHERE, 'startupTimeoutMs', timeout, 'a positive number of milliseconds');
  }
  if (options.backoff !== undefined) {
    assertOptionsObject(`${WHERE}: backoff`, options.backoff);
    assertKnownOptions(`${WHERE}: backoff`, options.backoff, ['initialMs', 'maxMs']);
  }
}
