import { assertKnownOptions, assertOptionsObject, channels, optionError } from '@meshless/core';
import { subscribeAll } from './channel-subscriptions.js';
import type { SecurityLabel } from './labels.js';
import { SlidingWindowCounter } from './sliding-window.js';

/**
 * Options of {@link createCoverage}.
 *
 * @example
 * ```ts
 * const coverage = createCoverage({ windowMs: 15 * 60_000, maxCallers: 500 });
 * ```
 */
export interface CoverageOptions {
  /** How far back the view looks. Default 5 minutes. */
  windowMs?: number;
  /** Resolution: the window is kept in this many slots, and is exact to within one. Default 30. */
  slots?: number;
  /** At most this many plaintext and `tls` callers are remembered; the least recent go first. Default 1000. */
  maxCallers?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/**
 * A caller that still reaches the service without mutual TLS, identified by remote address and
 * user agent (it has no verified identity to go by).
 *
 * @example
 * ```ts
 * for (const c of coverage.snapshot().unmigrated) console.log(c.security, c.remoteAddress, c.userAgent, c.requests);
 * ```
 */
export interface UnmigratedCaller {
  readonly remoteAddress: string;
  readonly userAgent: string;
  readonly security: 'tls' | 'plaintext';
  /** Requests in the window. */
  readonly requests: number;
  readonly lastSeen: Date;
}

/**
 * The share of requests by security label over the window, and who has not migrated yet.
 *
 * @example
 * ```ts
 * const { shares, unmigrated } = coverage.snapshot();
 * if (shares.mtls < 1) log.info(`${(shares.mtls * 100).toFixed(1)}% mTLS; not yet:`, unmigrated);
 * ```
 */
export interface CoverageSnapshot {
  readonly windowMs: number;
  /** Requests in the window. */
  readonly total: number;
  readonly byLabel: Readonly<Record<SecurityLabel, number>>;
  /** `byLabel` divided by `total`; all zero when there were no requests. */
  readonly shares: Readonly<Record<SecurityLabel, number>>;
  /** Plaintext and `tls` callers seen in the window, most requests first. */
  readonly unmigrated: readonly UnmigratedCaller[];
  /** True when more than `maxCallers` callers were seen in the window, so `unmigrated` is incomplete. */
  readonly truncated: boolean;
}

/**
 * A live view of mTLS coverage.
 *
 * @example
 * ```ts
 * const coverage = createCoverage();
 * app.get('/debug/mtls-coverage', (_req, res) => res.json(coverage.snapshot()));
 * ```
 */
export interface Coverage {
  snapshot(): CoverageSnapshot;
  /** Unsubscribes; the view stops changing. */
  close(): void;
}

interface Caller {
  readonly remoteAddress: string;
  readonly userAgent: string;
  readonly security: 'tls' | 'plaintext';
  readonly counter: SlidingWindowCounter;
  lastSeen: number;
}

const LABELS: readonly SecurityLabel[] = ['mtls', 'tls', 'plaintext'];
// User agents are chosen by the caller: cut them, so no caller can make the view hold megabytes.
const MAX_USER_AGENT = 256;

/**
 * Starts a coverage view over the `meshless:request` diagnostics channel, which meshless servers
 * publish for every request: how many requests in the window came over mTLS, TLS without a client
 * certificate, and plaintext, and the list of plaintext and `tls` callers, the ones to migrate
 * before switching to strict mode. Memory is bounded: counts live in a ring of time slots, and at
 * most `maxCallers` callers are remembered.
 *
 * @example
 * ```ts
 * import { createCoverage } from '@meshless/metrics';
 *
 * const coverage = createCoverage({ windowMs: 10 * 60_000 });
 * setInterval(() => {
 *   const { shares, unmigrated } = coverage.snapshot();
 *   log.info({ mtls: shares.mtls, unmigrated: unmigrated.slice(0, 20) }, 'mTLS coverage');
 * }, 60_000).unref();
 * ```
 */
export function createCoverage(options: CoverageOptions = {}): Coverage {
  assertOptionsObject('createCoverage', options);
  assertKnownOptions('createCoverage', options, ['windowMs', 'slots', 'maxCallers', 'now']);
  const { windowMs = 5 * 60_000, slots = 30, maxCallers = 1000, now = Date.now } = options;
  if (!(Number.isFinite(windowMs) && windowMs > 0))
    throw optionError('createCoverage: windowMs must be a positive number');
  if (!(Number.isInteger(slots) && slots > 0 && slots <= 3600))
    throw optionError('createCoverage: slots must be an integer from 1 to 3600');
  if (!(Number.isInteger(maxCallers) && maxCallers > 0))
    throw optionError('createCoverage: maxCallers must be a positive integer');
  if (typeof now !== 'function') throw optionError('createCoverage: now must be a function');

  const totals = {
    mtls: new SlidingWindowCounter(windowMs, slots),
    tls: new SlidingWindowCounter(windowMs, slots),
    plaintext: new SlidingWindowCounter(windowMs, slots),
  };
  // Insertion order is recency order: a caller is moved to the end on each request.
  const callers = new Map<string, Caller>();
  let lastTruncation = Number.NEGATIVE_INFINITY;

  const record = (message: unknown) => {
    const { security, remoteAddress, userAgent } = (message ?? {}) as Record<string, unknown>;
    if (security !== 'mtls' && security !== 'tls' && security !== 'plaintext') return;
    const time = now();
    totals[security].add(time);
    if (security === 'mtls') return;
    const address = normalizeAddress(remoteAddress);
    const agent = typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : '';
    const key = `${security}\n${address}\n${agent}`;
    let caller = callers.get(key);
    if (caller) callers.delete(key);
    else
      caller = {
        remoteAddress: address,
        userAgent: agent,
        security,
        counter: new SlidingWindowCounter(windowMs, slots),
        lastSeen: time,
      };
    caller.counter.add(time);
    caller.lastSeen = time;
    callers.set(key, caller);
    if (callers.size > maxCallers) {
      const [oldestKey, oldest] = callers.entries().next().value as [string, Caller];
      callers.delete(oldestKey);
      if (oldest.lastSeen > time - windowMs) lastTruncation = time;
    }
  };
  const unsubscribe = subscribeAll({ [channels.request]: record }, 'createCoverage');

  return {
    snapshot() {
      const time = now();
      const byLabel = {
        mtls: totals.mtls.total(time),
        tls: totals.tls.total(time),
        plaintext: totals.plaintext.total(time),
      };
      const total = byLabel.mtls + byLabel.tls + byLabel.plaintext;
      const shares = Object.fromEntries(
        LABELS.map((label) => [label, total === 0 ? 0 : byLabel[label] / total]),
      ) as Record<SecurityLabel, number>;
      const unmigrated: UnmigratedCaller[] = [];
      for (const [key, caller] of callers) {
        const requests = caller.counter.total(time);
        // Forget callers that left the window, so the map only holds current ones.
        if (requests === 0) {
          callers.delete(key);
          continue;
        }
        const { remoteAddress, userAgent, security, lastSeen } = caller;
        unmigrated.push({ remoteAddress, userAgent, security, requests, lastSeen: new Date(lastSeen) });
      }
      unmigrated.sort((a, b) => b.requests - a.requests || b.lastSeen.getTime() - a.lastSeen.getTime());
      return { windowMs, total, byLabel, shares, unmigrated, truncated: lastTruncation > time - windowMs };
    },
    close: unsubscribe,
  };
}

// An IPv4 client of a dual-stack server shows as ::ffff:10.0.0.7; operators know it as 10.0.0.7.
function normalizeAddress(address: unknown): string {
  if (typeof address !== 'string') return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
