import { isMeshlessError, MeshlessError } from '@meshless/core';
import { CommanderError } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';

/**
 * A usage error: exit code 2, code `ERR_MESHLESS_USAGE`.
 *
 * @example
 * ```ts
 * if (!options.dir && !options.cert) throw usageError('give --dir DIR, or --cert, --key and --ca');
 * ```
 */
export function usageError(message: string, context: Record<string, unknown> = {}): MeshlessError {
  return new MeshlessError('ERR_MESHLESS_USAGE', message, context);
}

/**
 * The exit code an error ends the command with: 2 for usage errors (commander's, ours, and the
 * `ERR_MESHLESS_INVALID_OPTION` or `TypeError` that meshless libraries throw for a malformed option value), 0 for `--help` and
 * `--version`, 1 for everything else.
 *
 * @example
 * ```ts
 * process.exitCode = exitCodeOf(err);
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isMeshlessError(error, 'ERR_MESHLESS_USAGE') || isMeshlessError(error, 'ERR_MESHLESS_DEMO_NOT_FOUND'))
    return EXIT.usage;
  // A library refused an option value that came from a flag: the user's input, so a usage error.
  if (isMeshlessError(error, 'ERR_MESHLESS_INVALID_OPTION')) return EXIT.usage;
  if (error instanceof TypeError) return EXIT.usage;
  return EXIT.failed;
}

/** The code printed in parentheses after an error message. */
export function codeOf(error: unknown): string {
  // The command's contract: whatever refused a flag's value, it is reported as a usage error.
  if (isMeshlessError(error, 'ERR_MESHLESS_INVALID_OPTION')) return 'ERR_MESHLESS_USAGE';
  if (isMeshlessError(error)) return error.code;
  // A plain { code, message } record, as a probe report carries its error.
  if (isRecord(error) && typeof error.code === 'string' && error.code.startsWith('ERR_MESHLESS_'))
    return error.code;
  if (exitCodeOf(error) === EXIT.usage) return 'ERR_MESHLESS_USAGE';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  return error instanceof Error ? error.name : 'Error';
}

/** The message of an error on one line, without commander's `error: ` prefix. */
export function messageOf(error: unknown): string {
  const text =
    error instanceof Error
      ? error.message
      : isRecord(error) && typeof error.message === 'string'
        ? error.message
        : String(error);
  return (
    text
      .replace(/^error: /, '')
      // commander puts its suggestion on a line of its own: keep it with the message it belongs to.
      .replace(/\n\(Did you mean ([^)\n]*)\?\)/g, ' (did you mean $1?)')
      .split('\n')
      .map((line) =>
        line
          .trim()
          .replace(/^\((.*)\)$/, '$1')
          .replace(/\.$/, ''),
      )
      .filter((line) => line.length > 0)
      .join('; ')
  );
}

/**
 * The one line `meshless` prints for an error: `meshless: <message> (<code>)`. No stack trace:
 * set `MESHLESS_DEBUG=1` to get one.
 *
 * @example
 * ```ts
 * errorLine(new MeshlessError('ERR_MESHLESS_KEY_MISMATCH', 'key (tls.key) does not belong to ...'));
 * // 'meshless: key (tls.key) does not belong to ... (ERR_MESHLESS_KEY_MISMATCH)'
 * ```
 */
export function errorLine(error: unknown, hint?: string): string {
  return `meshless: ${messageOf(error)}${hint ? `; ${hint}` : ''} (${codeOf(error)})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
