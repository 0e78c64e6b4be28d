import type { Paint } from './colour.js';

/** The outcome of one check: passed, failed, a warning, or not run because an earlier check failed. */
export type Outcome = 'pass' | 'fail' | 'warn' | 'skip';

const SYMBOLS: Record<Outcome, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' };

/**
 * The mark printed before a check: ✓, ✗, ! or -, coloured when colour is on.
 *
 * @example
 * ```ts
 * mark('fail', paint); // '✗' (red on a terminal)
 * ```
 */
export function mark(outcome: Outcome, paint: Paint): string {
  const symbol = SYMBOLS[outcome];
  switch (outcome) {
    case 'pass':
      return paint('green', symbol);
    case 'fail':
      return paint('red', symbol);
    case 'warn':
      return paint('yellow', symbol);
    case 'skip':
      return paint('dim', symbol);
  }
}
