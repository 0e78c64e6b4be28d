import { stat } from 'node:fs/promises';
import type { Check } from './check.js';

const TITLE = 'key file is private to its owner (and group)';

/**
 * Checks the mode of the private key file (following symlinks, as a Kubernetes volume's files
 * are): any permission for other users, or write permission for the group, is a problem. Read
 * permission for the group is accepted, because Kubernetes volumes shared through `fsGroup` need it.
 * Windows has no such modes, so the check is skipped there.
 *
 * @example
 * ```ts
 * const check = await checkKeyPermissions('certs/tls.key');
 * check.outcome; // 'fail' for mode 0644
 * ```
 */
export async function checkKeyPermissions(
  file: string,
  platform: NodeJS.Platform = process.platform,
): Promise<Check> {
  if (platform === 'win32') {
    return {
      id: 'key-permissions',
      title: TITLE,
      outcome: 'skip',
      detail: 'not checked: Windows has no POSIX modes',
    };
  }
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    return {
      id: 'key-permissions',
      title: TITLE,
      outcome: 'skip',
      detail: `not checked: cannot stat ${file} (${(err as NodeJS.ErrnoException).code ?? 'EIO'})`,
    };
  }
  const octal = `0${mode.toString(8).padStart(3, '0')}`;
  const others = mode & 0o007;
  const groupWrite = mode & 0o020;
  if (others || groupWrite) {
    const who = others
      ? `${mode & 0o004 ? 'readable' : 'accessible'} by every user on the machine`
      : 'writable by its group';
    return {
      id: 'key-permissions',
      title: TITLE,
      outcome: 'fail',
      code: 'ERR_MESHLESS_KEY_PERMISSIONS',
      detail: `${file} is mode ${octal}: ${who}`,
    };
  }
  const note =
    mode & 0o040
      ? " (group-readable: fine when the group is the service's own, e.g. Kubernetes fsGroup)"
      : '';
  return { id: 'key-permissions', title: TITLE, outcome: 'pass', detail: `mode ${octal}${note}` };
}
