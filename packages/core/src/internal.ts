/**
 * `@meshless/core/internal`: plumbing that the other meshless packages share (the server, client,
 * watcher, adapters, CLI and SPIFFE packages), kept out of the main entry so that `@meshless/core`
 * exports only the documented API. Outside semver: anything here may change in any release; do not
 * import it from an application.
 *
 * @packageDocumentation
 */
export { LruCache } from './lru.js';
