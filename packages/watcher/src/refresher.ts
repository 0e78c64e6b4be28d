import { loadMaterial, MeshlessError, type TlsMaterial } from '@meshless/core';
import { attributeToFile } from './attribute.js';
import { Backoff } from './backoff.js';
import { Debouncer } from './debounce.js';
import { directoriesToWatch } from './directories.js';
import { DirectoryWatch } from './directory-watch.js';
import type { ResolvedWatchOptions } from './options.js';
import { type FileContents, readMaterialFiles } from './read-files.js';

/**
 * What a {@link Refresher} reports after each look at the files.
 *
 * @example
 * ```ts
 * refresher.handler = {
 *   loaded: (material) => console.log('new material', material.identity.serialNumber),
 *   failed: (error, firstSeen) => firstSeen && console.warn(error.code),
 *   inSync: () => {},
 *   watchFailed: (error) => console.warn(error.message),
 * };
 * ```
 */
export interface RefreshHandler {
  /** The files hold valid material other than the last loaded. */
  loaded(material: TlsMaterial): void;
  /** The files hold invalid material or cannot be read; `firstSeen` is false when nothing changed since the last report. */
  failed(error: MeshlessError, firstSeen: boolean): void;
  /** The files hold exactly the last loaded material. */
  inSync(): void;
  /** The directory watch broke; only the periodic re-read is left. */
  watchFailed(error: MeshlessError): void;
}

const IGNORE: RefreshHandler = { loaded() {}, failed() {}, inSync() {}, watchFailed() {} };

/**
 * The engine behind a file source: directory events are debounced into re-reads, re-reads are run
 * one at a time, a failed read is retried with backoff until the files are valid again, and a slow
 * periodic re-read catches whatever events missed. It knows nothing of events or status; it reports
 * each outcome to its {@link RefreshHandler}.
 *
 * @example
 * ```ts
 * const refresher = new Refresher(resolveWatchOptions({ dir: '/etc/tls', layout: 'cert-manager' }));
 * refresher.handler = handler;
 * refresher.start();
 * await refresher.close();
 * ```
 */
export class Refresher {
  handler: RefreshHandler = IGNORE;
  readonly #options: ResolvedWatchOptions;
  readonly #debouncer: Debouncer;
  readonly #backoff: Backoff;
  readonly #watch: DirectoryWatch;
  #poll: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  /** Hash of the files' bytes behind the last loaded material. */
  #loadedHash: string | undefined;
  /** What the last failure was about, so an unchanged failure is reported as such. */
  #lastFailure: string | undefined;
  #closed = false;

  constructor(options: ResolvedWatchOptions) {
    this.#options = options;
    const { debounceMs } = options;
    this.#debouncer = new Debouncer(debounceMs, Math.max(5 * debounceMs, 50), () => void this.refresh());
    this.#backoff = new Backoff({ initialMs: options.retryInitialDelayMs, maxMs: options.retryMaxDelayMs });
    this.#watch = new DirectoryWatch(
      () => this.#onEvent(),
      (error) => this.#report((handler) => handler.watchFailed(error)),
    );
  }

  /** The directories watched now. */
  get directories(): string[] {
    return this.#watch.directories;
  }

  /** Starts the periodic re-read and the first read. */
  start(): Promise<void> {
    this.#poll = setInterval(() => void this.refresh(), this.#options.pollIntervalMs);
    this.#poll.unref();
    return this.refresh();
  }

  /**
   * Re-reads the files now, after any read in progress. Calls made while one read is waiting share it.
   * Never rejects: outcomes go to the handler.
   */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#queued) return this.#queued;
    if (!this.#running) {
      this.#running = this.#attempt().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    // A read is in progress and the files may have changed since it began: read once more after it.
    this.#queued = this.#running.then(() => {
      this.#queued = undefined;
      return this.refresh();
    });
    return this.#queued;
  }

  /** Stops every timer and the directory watch. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#debouncer.cancel();
    clearInterval(this.#poll);
    clearTimeout(this.#retry);
    await this.#watch.close();
    // A read in progress finishes on its own; its outcome is dropped.
    await this.#running;
  }

  #onEvent(): void {
    if (!this.#closed) this.#debouncer.trigger();
  }

  async #attempt(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    let contents: FileContents | undefined;
    let material: TlsMaterial;
    try {
      await this.#syncWatch();
      contents = await readMaterialFiles(this.#options.files);
      if (this.#closed) return;
      if (contents.hash === this.#loadedHash) {
        this.#recovered();
        this.#report((handler) => handler.inSync());
        return;
      }
      material = loadMaterial({
        cert: contents.cert,
        key: contents.key,
        ca: contents.ca,
        files: this.#options.files,
        ...(this.#options.passphrase !== undefined ? { passphrase: this.#options.passphrase } : {}),
        ...(this.#options.clockSkewMs !== undefined ? { clockSkewMs: this.#options.clockSkewMs } : {}),
      });
    } catch (error) {
      if (!this.#closed) this.#failed(error, contents);
      return;
    }
    this.#loadedHash = contents.hash;
    this.#recovered();
    this.#report((handler) => handler.loaded(material));
  }

  /**
   * Calls the handler. An exception there comes from an event listener, not from the files: it is
   * rethrown on its own tick, as any throwing listener would be, and leaves this loop intact.
   */
  #report(call: (handler: RefreshHandler) => void): void {
    try {
      call(this.handler);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  async #syncWatch(): Promise<void> {
    try {
      await this.#watch.sync(await directoriesToWatch(this.#options.files));
    } catch (error) {
      // Reading the files can still work: report the watch, carry on with the read.
      const failure =
        error instanceof MeshlessError
          ? error
          : new MeshlessError(
              'ERR_MESHLESS_WATCH_FAILED',
              `cannot watch the directories of ${this.#options.files.cert}: ${(error as Error).message}`,
              {},
              error,
            );
      this.#report((handler) => handler.watchFailed(failure));
    }
  }

  #recovered(): void {
    this.#backoff.reset();
    this.#lastFailure = undefined;
  }

  #failed(thrown: unknown, contents: FileContents | undefined): void {
    if (!(thrown instanceof MeshlessError)) {
      // Not a problem with the files but a bug: say so loudly, keep serving, keep retrying.
      process.emitWarning(
        `${this.#options.name}: unexpected error while reading certificates: ${String(thrown)}`,
      );
      this.#scheduleRetry();
      return;
    }
    const error = attributeToFile(thrown, this.#options.files);
    // Not the message: messages of time-based errors hold the current time.
    const { input, file, errno } = error.context;
    const signature = [contents?.hash, error.code, input, file, errno].join('|');
    const firstSeen = signature !== this.#lastFailure;
    this.#lastFailure = signature;
    this.#report((handler) => handler.failed(error, firstSeen));
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.refresh();
    }, this.#backoff.next());
    this.#retry.unref();
  }
}
