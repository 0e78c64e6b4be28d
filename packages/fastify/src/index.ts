import { meshless } from './plugin.js';

export type { MeshlessFastifyErrorCode } from './errors.js';
export { MeshlessPeerError } from './errors.js';
export type { AuthorizationEvent, MeshlessPluginOptions, MtlsMode, MtlsRouteConfig } from './options.js';
export { meshless } from './plugin.js';
export type { FastifyServerOptionsInput, MeshlessFastifyServerOptions } from './server-options.js';
export { fastifyServerOptions } from './server-options.js';

export default meshless;
