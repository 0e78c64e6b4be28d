/**
 * Runs `fire` once events have been quiet for `delayMs`, but never later than `maxWaitMs` after the
 * first event of a burst, so a directory that never stops changing is still re-read. Its timer is
 * unref'd: a pending re-read never keeps a process alive.
 *
 * @example
 * ```ts
 * const debouncer = new Debouncer(50, 250, () => void reload());
 * watcher.on('all', () => debouncer.trigger());
 * // later
 * debouncer.cancel();
 * ```
 */
export class Debouncer {
  readonly #delayMs: number;
  readonly #maxWaitMs: number;
  readonly #fire: () => void;
  #timer: NodeJS.Timeout | undefined;
  #burstStartedAt = 0;

  constructor(delayMs: number, maxWaitMs: number, fire: () => void) {
    this.#delayMs = delayMs;
    this.#maxWaitMs = Math.max(delayMs, maxWaitMs);
    this.#fire = fire;
  }

  /** Whether a run is scheduled. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Notes an event: (re)starts the quiet period. */
  trigger(): void {
    const now = performance.now();
    if (this.#timer === undefined) this.#burstStartedAt = now;
    else clearTimeout(this.#timer);
    const due = Math.min(now + this.#delayMs, this.#burstStartedAt + this.#maxWaitMs);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#fire();
      },
      Math.max(0, due - now),
    );
    this.#timer.unref();
  }

  /** Drops a scheduled run. */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
