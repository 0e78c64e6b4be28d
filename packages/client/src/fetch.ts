import { fetch as undiciFetch } from 'undici';
import { createAgent, MeshlessAgent } from './agent.js';
import type { ClientOptions } from './options.js';

/** undici's `fetch`, bound to a {@link MeshlessAgent}, with that agent and a way to close it. */
export type MeshlessFetch = typeof undiciFetch & {
  /** The agent every request of this fetch goes through. */
  readonly agent: MeshlessAgent;
  /** Closes the agent once running requests finish. */
  close(): Promise<void>;
};

/**
 * Returns undici's `fetch` bound to a meshless agent (built from `options`, or the agent given).
 * A `dispatcher` passed in a call's init is ignored: every request of this fetch is mutual TLS.
 * Failures reject as fetch does, with a `TypeError('fetch failed')` whose `cause` is the
 * {@link MeshlessError} that explains them.
 *
 * @example
 * ```ts
 * const fetch = createFetch({ source, authorizeServer: 'spiffe://example.org/ns/prod/sa/orders' });
 * try {
 *   const res = await fetch('https://10.0.0.7:8443/v1/orders');
 *   console.log(await res.json());
 * } catch (err) {
 *   console.error((err as Error).cause); // MeshlessError ERR_MESHLESS_SERVER_UNAUTHORIZED: expected ..., found ...
 * }
 * await fetch.close();
 * ```
 */
export function createFetch(options: ClientOptions | MeshlessAgent): MeshlessFetch {
  const agent = options instanceof MeshlessAgent ? options : createAgent(options);
  const bound = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: agent })) as typeof undiciFetch;
  return Object.assign(bound, { agent, close: () => agent.close() });
}
