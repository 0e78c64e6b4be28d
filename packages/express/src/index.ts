export type { MtlsMiddleware } from './mtls.js';
export { mtls } from './mtls.js';
export type { AuthorizationEvent, MtlsMode, MtlsOptions } from './options.js';
