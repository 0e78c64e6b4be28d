import diagnostics from 'node:diagnostics_channel';

type Handler = (message: unknown) => void;

/**
 * Subscribes handlers to diagnostics channels and returns the function that unsubscribes them all.
 * Each handler is guarded: `diagnostics_channel` rethrows a subscriber's error as an uncaught
 * exception, and a metrics bug (or a malformed message from another copy of meshless) must never
 * take a service down. The first such error becomes a process warning.
 *
 * @example
 * ```ts
 * const stop = subscribeAll({ 'meshless:connection': (m) => count(m) }, 'metrics');
 * stop();
 * ```
 */
export function subscribeAll(handlers: Readonly<Record<string, Handler>>, where: string): () => void {
  let warned = false;
  const subscribed: [string, Handler][] = [];
  for (const [name, handler] of Object.entries(handlers)) {
    const guarded: Handler = (message) => {
      try {
        handler(message);
      } catch (error) {
        if (warned) return;
        warned = true;
        process.emitWarning(`${where}: a ${name} message could not be recorded: ${String(error)}`, {
          code: 'MESHLESS_METRICS',
        });
      }
    };
    diagnostics.subscribe(name, guarded);
    subscribed.push([name, guarded]);
  }
  return () => {
    for (const [name, guarded] of subscribed.splice(0)) diagnostics.unsubscribe(name, guarded);
  };
}
