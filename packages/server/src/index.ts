export type { MeshlessTlsOptions } from './attach.js';
export { attachMeshless, DEFAULT_HANDSHAKE_TIMEOUT_MS, meshlessTlsOptions } from './attach.js';
export type { CreateSecureServerOptions, CreateServerOptions } from './create-server.js';
export { createSecureServer, createServer } from './create-server.js';
export type { HandshakeFailureReason } from './handshake-failure.js';
export { classifyHandshakeFailure } from './handshake-failure.js';
export type { MeshlessServerOptions, ServerMode } from './options.js';
export { peerOf, securityOf } from './peer-of.js';
export type { SecurityLabel } from './peer-state.js';
