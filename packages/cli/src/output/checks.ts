import type { Check } from '../checks/check.js';
import type { Paint } from './colour.js';
import { mark } from './marks.js';

/**
 * Prints checks one a line: the mark, what was checked, and what was found; a failure adds its
 * code and, when known, the fix on the next line.
 *
 * @example
 * ```ts
 * io.stdout.write(checkLines(report.checks, paint));
 * // ✓ key belongs to the leaf certificate
 * // ✗ leaf is within its validity period: leaf certificate "CN=web" expired at ... (ERR_MESHLESS_CERT_EXPIRED)
 * ```
 */
export function checkLines(checks: readonly Check[], paint: Paint): string {
  return checks
    .map((check) => {
      const head = `${mark(check.outcome, paint)} ${check.title}`;
      const detail = check.detail
        ? `: ${check.outcome === 'skip' ? paint('dim', check.detail) : check.detail}`
        : '';
      const code = check.code ? ` (${check.code})` : '';
      const fix = check.fix ? `\n    ${paint('bold', 'fix:')} ${check.fix}` : '';
      return `${head}${detail}${code}${fix}\n`;
    })
    .join('');
}
