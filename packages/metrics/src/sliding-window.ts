/**
 * A count over a sliding time window, in a fixed ring of slots: memory stays constant however many
 * events arrive, and old events fall out as their slot is reused. The window is `windowMs` to
 * within one slot (`windowMs / slots`).
 *
 * @example
 * ```ts
 * const counter = new SlidingWindowCounter(60_000, 12); // one minute in 5-second slots
 * counter.add(Date.now());
 * counter.total(Date.now()); // 1
 * ```
 */
export class SlidingWindowCounter {
  readonly #slotMs: number;
  readonly #slots: number;
  // Which slot (time divided by slot length) each position holds, and its count.
  readonly #ids: Float64Array;
  readonly #counts: Float64Array;

  constructor(windowMs: number, slots: number) {
    this.#slots = slots;
    this.#slotMs = windowMs / slots;
    this.#ids = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.#counts = new Float64Array(slots);
  }

  add(now: number, count = 1): void {
    const id = Math.floor(now / this.#slotMs);
    const position = id % this.#slots;
    if (this.#ids[position] !== id) {
      this.#ids[position] = id;
      this.#counts[position] = 0;
    }
    this.#counts[position]! += count;
  }

  total(now: number): number {
    const current = Math.floor(now / this.#slotMs);
    let sum = 0;
    for (let i = 0; i < this.#slots; i++) {
      const id = this.#ids[i]!;
      if (id > current - this.#slots && id <= current) sum += this.#counts[i]!;
    }
    return sum;
  }
}
