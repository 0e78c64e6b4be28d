import type { CertificateSource, CertificateSourceEvents } from '@meshless/core';

/** Resolves with the arguments of the next `event` of `source`, or rejects after `ms`. */
export function nextEvent<E extends keyof CertificateSourceEvents>(
  source: CertificateSource,
  event: E,
  ms = 5000,
): Promise<CertificateSourceEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off(event, listener);
      reject(new Error(`no '${event}' event within ${ms} ms`));
    }, ms);
    const listener = (...args: CertificateSourceEvents[E]) => {
      clearTimeout(timer);
      source.off(event, listener);
      resolve(args);
    };
    source.on(event, listener);
  });
}

/** Waits until `check` is true, polling every 20 ms, or rejects after `ms` naming `what`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
