export { createAgent, MeshlessAgent } from './agent.js';
export type { SocketOptions } from './connector.js';
export type { MeshlessFetch } from './fetch.js';
export { createFetch } from './fetch.js';
export type { ClientOptions } from './options.js';
export type { ServerAuthorizationByOrigin } from './origin-policies.js';
export type { ServerAuthorization } from './server-policy.js';
