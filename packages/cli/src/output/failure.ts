import type { Check } from '../checks/check.js';

/**
 * The one stderr line for a command that ran but found problems: what failed, and the code of the
 * first failure, so CI logs show the reason even when stdout goes to a file.
 *
 * @example
 * ```ts
 * io.stderr.write(failureLine(checks, 'the material is invalid'));
 * // meshless: the material is invalid: failed check "key belongs to the leaf certificate" (ERR_MESHLESS_KEY_MISMATCH)
 * ```
 */
export function failureLine(checks: readonly Check[], summary: string): string {
  const failed = checks.filter((check) => check.outcome === 'fail');
  const first = failed[0];
  if (!first) return '';
  const more = failed.length > 1 ? ` and ${failed.length - 1} more` : '';
  return `meshless: ${summary}: failed check "${first.title}"${more}${first.code ? ` (${first.code})` : ''}\n`;
}
