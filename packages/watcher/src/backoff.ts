/**
 * Exponential backoff with jitter: `initialMs`, then twice as long each time, up to `maxMs`, each delay
 * spread by ±`jitter` so that many pods reading the same network file system do not retry in step.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 200, maxMs: 30_000 });
 * backoff.next(); // about 200
 * backoff.next(); // about 400
 * backoff.reset();
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #failures = 0;

  constructor(options: { initialMs: number; maxMs: number; jitter?: number; random?: () => number }) {
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
  }

  /** How many delays were handed out since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** The next delay in milliseconds, never more than `maxMs`. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    const spread = 1 - this.#jitter + 2 * this.#jitter * this.#random();
    return Math.max(1, Math.min(this.#maxMs, Math.round(base * spread)));
  }

  /** Starts over from `initialMs`. */
  reset(): void {
    this.#failures = 0;
  }
}
