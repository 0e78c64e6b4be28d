import { invalidOption } from '@meshless/core';

/** How long to wait between reconnection attempts. */
export interface BackoffOptions {
  /** The first wait, in milliseconds. Default 500. */
  initialMs?: number;
  /** The longest wait, in milliseconds. Default 30 000. */
  maxMs?: number;
}

/**
 * Exponential backoff with jitter: the wait doubles after each failure up to `maxMs`, and each wait is
 * shortened by up to a fifth at random, so that the workloads of a node do not all reconnect to a
 * restarted agent in the same instant.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
 * setTimeout(reconnect, backoff.next());
 * backoff.reset(); // after a success
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = positive(options.initialMs ?? 500, 'backoff.initialMs');
    this.#maxMs = positive(options.maxMs ?? 30_000, 'backoff.maxMs');
    if (this.#maxMs < this.#initialMs) {
      throw invalidOption(
        'workloadApiSource',
        'backoff.maxMs',
        this.#maxMs,
        `at least backoff.initialMs (${this.#initialMs})`,
      );
    }
  }

  /** The next wait, in milliseconds. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption('workloadApiSource', name, value, 'a positive number of milliseconds');
  }
  return value;
}
