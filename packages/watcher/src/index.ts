export { FileCertificateSource } from './file-source.js';
export type { LayoutName, MaterialFiles } from './layouts.js';
export { LAYOUTS, layoutFiles } from './layouts.js';
export type {
  CommonWatchOptions,
  FilePathOptions,
  LayoutOptions,
  WatchCertificateFilesOptions,
} from './options.js';
export { WATCH_DEFAULTS } from './options.js';
export type { FileSourceStatus } from './status.js';
export { watchCertificateFiles } from './watch.js';
