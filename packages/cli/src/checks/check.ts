import { isMeshlessError } from '@meshless/core';
import type { Outcome } from '../output/marks.js';

/** One check of `verify` or `doctor`, as printed and as `--json` gives it. */
export interface Check {
  /** Stable identifier for scripts: `key-match`, `chain`, `key-permissions`, ... */
  id: string;
  /** What was checked, in words. */
  title: string;
  outcome: Outcome;
  /** On success, what was found; on failure, the error message; when skipped, why. */
  detail?: string;
  /** The error code of a failure or warning. */
  code?: string;
  /** How to fix a failure (doctor fills it in). */
  fix?: string;
}

/**
 * Runs one step and turns its outcome into a {@link Check}: a `MeshlessError` becomes a failure
 * with its code and message; anything else is a bug and is rethrown.
 *
 * @example
 * ```ts
 * const check = attempt('key-match', 'key matches the certificate', () => { assertMatch(); return 'yes'; });
 * ```
 */
export function attempt(id: string, title: string, step: () => string | undefined): Check {
  try {
    const detail = step();
    return { id, title, outcome: 'pass', ...(detail ? { detail } : {}) };
  } catch (err) {
    if (!isMeshlessError(err)) throw err;
    return { id, title, outcome: 'fail', detail: err.message, code: err.code };
  }
}

/**
 * A check that did not run because one it depends on failed.
 *
 * @example
 * ```ts
 * skipped('chain', 'chain verifies to the bundle', 'the ca file did not parse');
 * ```
 */
export function skipped(id: string, title: string, why: string): Check {
  return { id, title, outcome: 'skip', detail: `not checked: ${why}` };
}

/** Whether any check failed (warnings do not count). */
export function anyFailed(checks: readonly Check[]): boolean {
  return checks.some((check) => check.outcome === 'fail');
}
