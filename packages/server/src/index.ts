export { createServer, createSecureServer } from './create-server.js';
export type { CreateServerOptions, CreateSecureServerOptions } from './create-server.js';
export { attachMeshless, meshlessTlsOptions, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './attach.js';
export type { MeshlessTlsOptions } from './attach.js';
export { peerOf, securityOf } from './peer-of.js';
export type { SecurityLabel } from './peer-state.js';
export type { MeshlessServerOptions, ServerMode } from './options.js';
export { classifyHandshakeFailure } from './handshake-failure.js';
export type { HandshakeFailureReason } from './handshake-failure.js';
