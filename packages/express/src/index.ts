export type { AuthorizationEvent } from './event.js';
export type { MtlsMiddleware } from './mtls.js';
export { mtls } from './mtls.js';
export type { MtlsMode, MtlsOptions } from './options.js';
