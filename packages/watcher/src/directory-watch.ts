import { stat } from 'node:fs/promises';
import { MeshlessError } from '@meshless/core';
import { type FSWatcher, watch } from 'chokidar';

/**
 * Watches a set of directories (never the files in them: a kubelet update swaps the `..data` symlink
 * and never touches `tls.crt`, editors replace files by rename) and calls `onEvent` for anything that
 * happens directly in them. `sync()` re-arms the watch when the set changes or a directory was
 * deleted and created again, which leaves the old watch deaf. The watch never keeps a process alive.
 *
 * @example
 * ```ts
 * const watch = new DirectoryWatch(() => debouncer.trigger(), (err) => source.emit('error', err));
 * await watch.sync(['/etc/tls']);
 * await watch.close();
 * ```
 */
export class DirectoryWatch {
  readonly #onEvent: () => void;
  readonly #onError: (error: MeshlessError) => void;
  #watcher: FSWatcher | undefined;
  /** Directory path → identity (device and inode) of what is watched now. */
  #armed = new Map<string, string>();
  #closed = false;

  constructor(onEvent: () => void, onError: (error: MeshlessError) => void) {
    this.#onEvent = onEvent;
    this.#onError = onError;
  }

  /** The directories watched now. */
  get directories(): string[] {
    return [...this.#armed.keys()];
  }

  /**
   * Watches exactly the directories of `dirs` that exist now; missing ones are picked up by a later
   * call (the source calls it before every re-read).
   */
  async sync(dirs: readonly string[]): Promise<void> {
    const wanted = new Map<string, string>();
    for (const dir of dirs) {
      const stats = await stat(dir).catch(() => undefined);
      if (stats?.isDirectory()) wanted.set(dir, `${stats.dev}:${stats.ino}`);
    }
    if (this.#closed || sameEntries(wanted, this.#armed)) return;
    // Recreating the watcher is simpler and surer than patching chokidar's state for a deleted directory.
    const previous = this.#watcher;
    this.#watcher = undefined;
    this.#armed = wanted;
    await previous?.close();
    if (wanted.size === 0 || this.#closed) return;
    const watcher = watch([...wanted.keys()], {
      depth: 0,
      ignoreInitial: true,
      // React at once: chokidar's atomic mode holds unlink events back for 100 ms.
      atomic: false,
      // `..data` is a symlink to a directory; its target's own events are not needed.
      followSymlinks: false,
      persistent: false,
    });
    this.#watcher = watcher;
    // 'raw' is every fs.watch event (it arrives first, and includes `..data_tmp` renames); 'all' is the
    // normalised one. Both only trigger a debounced re-read, so hearing one event twice costs nothing.
    watcher.on('raw', this.#onEvent);
    watcher.on('all', this.#onEvent);
    watcher.on('error', (error: unknown) => this.#onError(watchFailed([...wanted.keys()], error)));
    await new Promise<void>((resolve) => {
      watcher.once('ready', resolve);
      watcher.once('error', () => resolve());
    });
  }

  /** Stops watching; closes every handle. */
  async close(): Promise<void> {
    this.#closed = true;
    const watcher = this.#watcher;
    this.#watcher = undefined;
    this.#armed.clear();
    await watcher?.close();
  }
}

function sameEntries(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

function watchFailed(directories: string[], error: unknown): MeshlessError {
  const cause = error as NodeJS.ErrnoException;
  const errno = typeof cause?.code === 'string' ? cause.code : undefined;
  return new MeshlessError(
    'ERR_MESHLESS_WATCH_FAILED',
    `watching ${directories.join(', ')} failed: ${cause?.message ?? String(error)}; changes are now noticed only by the periodic re-read`,
    { directories, ...(errno ? { errno } : {}) },
    error,
  );
}
