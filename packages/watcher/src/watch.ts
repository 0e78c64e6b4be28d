import { setTimeout as sleep } from 'node:timers/promises';
import { MeshlessError, type TlsMaterial } from '@meshless/core';
import { FileCertificateSource } from './file-source.js';
import { rejectMissingFiles } from './missing-files.js';
import {
  type ResolvedWatchOptions,
  resolveWatchOptions,
  type WatchCertificateFilesOptions,
} from './options.js';
import { Refresher } from './refresher.js';

// How long the last look at the files, at the start-up deadline, may take before giving up.
const FINAL_ATTEMPT_GRACE_MS = 250;

/**
 * Watches certificate, key and trust bundle files and resolves with a {@link FileCertificateSource}
 * once they hold valid material. It watches the files' directories, re-reads all three after a
 * short debounce, and swaps in new material only when it is valid (key matches, chain verifies,
 * not expired) and different; anything else is an `error` event while the last good material stays.
 *
 * Bad options throw `ERR_MESHLESS_INVALID_OPTION` at once (an unknown key too, with a did-you-mean). A file that does not exist rejects at once with its
 * `ERR_MESHLESS_FILE_UNREADABLE` (unless `waitForFiles`, the default for spiffe-helper). When no valid material appears within `startupTimeoutMs`
 * the promise rejects with `ERR_MESHLESS_STARTUP_TIMEOUT`, whose message names the file and the
 * reason (and whose `cause` is the underlying error, such as `ERR_MESHLESS_FILE_UNREADABLE`).
 *
 * @example
 * ```ts
 * import { watchCertificateFiles } from '@meshless/watcher';
 * import { createServer } from '@meshless/server';
 *
 * const source = await watchCertificateFiles({ dir: '/var/run/secrets/tls', layout: 'cert-manager' });
 * createServer({ source, authorize: authorize.memberOf('example.org') }, app).listen(8443);
 * process.on('SIGTERM', () => void source.close());
 * ```
 */
export function watchCertificateFiles(options: WatchCertificateFilesOptions): Promise<FileCertificateSource> {
  // Validated outside the async part, so that a mistake throws where the call is.
  const resolved = resolveWatchOptions(options);
  return start(resolved);
}

async function start(options: ResolvedWatchOptions): Promise<FileCertificateSource> {
  if (!options.waitForFiles) await rejectMissingFiles(options.files);
  const refresher = new Refresher(options);
  let latest: TlsMaterial | undefined;
  let lastError: MeshlessError | undefined;
  let loaded!: () => void;
  const firstLoad = new Promise<void>((resolve) => {
    loaded = resolve;
  });
  refresher.handler = {
    loaded: (material) => {
      latest = material;
      loaded();
    },
    failed: (error) => {
      lastError = error;
    },
    inSync: () => {},
    // Nobody can listen yet; the periodic re-read still works.
    watchFailed: (error) => process.emitWarning(`${options.name}: ${error.message}`, { code: error.code }),
  };
  void refresher.start();

  await within(firstLoad, options.startupTimeoutMs);
  if (!latest) {
    // One last look, so files that appeared between two retries are not missed.
    await within(refresher.refresh(), FINAL_ATTEMPT_GRACE_MS);
  }
  if (!latest) {
    await refresher.close();
    throw startupTimeout(options, lastError);
  }
  return new FileCertificateSource(latest, refresher, options);
}

/**
 * Waits for `promise`, or `ms` at most. The timer is ref'd on purpose (everything after start-up is
 * not): a script whose first line awaits the source must not exit while the files are awaited.
 */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([promise, sleep(ms, undefined, { signal: timer.signal }).catch(() => {})]);
  timer.abort();
}

function startupTimeout(options: ResolvedWatchOptions, last: MeshlessError | undefined): MeshlessError {
  const reason = last ? last.message : 'no attempt to read the files completed';
  return new MeshlessError(
    'ERR_MESHLESS_STARTUP_TIMEOUT',
    `no valid TLS material in ${options.files.cert}, ${options.files.key} and ${options.files.ca} within ${options.startupTimeoutMs} ms: ${reason}`,
    {
      ...(last?.context.input !== undefined ? { input: last.context.input } : {}),
      ...(last?.context.file !== undefined ? { file: last.context.file } : {}),
      ...(last?.context.errno !== undefined ? { errno: last.context.errno } : {}),
      ...(last ? { reason: last.code } : {}),
      files: { ...options.files },
    },
    last,
  );
}
