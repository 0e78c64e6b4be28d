import type { StreamHandlers } from './stream.js';

/**
 * Passes a stream's events to whoever handles them now: the start-up wait, then the source. Between
 * the two (the first SVID arrived, the source is not built yet) events are kept and replayed in order,
 * so that no response is lost in the hand-over.
 *
 * @example
 * ```ts
 * const relay = new StreamRelay(startupHandlers);
 * const stream = new WorkloadApiStream(address, relay);
 * relay.hold();            // first material found
 * relay.connect(source);   // replays what came meanwhile
 * ```
 */
export class StreamRelay implements StreamHandlers {
  #target: StreamHandlers | undefined;
  readonly #held: (() => void)[] = [];

  constructor(target: StreamHandlers) {
    this.#target = target;
  }

  /** Keeps events until {@link connect}. */
  hold(): void {
    this.#target = undefined;
  }

  connect(target: StreamHandlers): void {
    this.#target = target;
    for (const replay of this.#held.splice(0)) replay();
  }

  response: StreamHandlers['response'] = (message) => this.#deliver((t) => t.response(message));
  outage: StreamHandlers['outage'] = (error) => this.#deliver((t) => t.outage(error));
  denied: StreamHandlers['denied'] = (error) => this.#deliver((t) => t.denied(error));
  fatal: StreamHandlers['fatal'] = (error) => this.#deliver((t) => t.fatal(error));

  #deliver(event: (target: StreamHandlers) => void): void {
    const target = this.#target;
    if (target) event(target);
    else this.#held.push(() => event(this.#target as StreamHandlers));
  }
}
