export type { ExitCode } from './exit-codes.js';
export { EXIT } from './exit-codes.js';
export { expiryPhrase, formatDuration } from './format/duration.js';
export type { Io, Output } from './io.js';
export { processIo } from './io.js';
export { run } from './run.js';
export { VERSION } from './version.js';
