import type { Command } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { type Paint, painter } from './output/colour.js';

/**
 * What a command's action gets besides its options: the streams, the painter for stdout, and a
 * place to put its exit code (commander's actions return nothing the caller can read).
 */
export interface Context {
  readonly io: Io;
  readonly paint: Paint;
  exitCode: ExitCode;
  /** The command being run, as typed (`meshless issue`), for usage hints in errors. */
  command?: string;
}

/**
 * A new context for one run of the program.
 *
 * @example
 * ```ts
 * const context = createContext(processIo());
 * ```
 */
export function createContext(io: Io): Context {
  return { io, paint: painter(io.stdout, io.env), exitCode: EXIT.ok };
}

/** Registers one command (with its options, help and action) on the program. */
export type CommandRegistration = (program: Command, context: Context) => void;

/**
 * Help text with examples, appended after a command's options in `--help`.
 *
 * @example
 * ```ts
 * command.addHelpText('after', examples(['meshless inspect tls.crt', 'kubectl ... | meshless inspect -']));
 * ```
 */
export function examples(lines: readonly string[], notes?: string): string {
  const body = lines.map((line) => `  $ ${line}`).join('\n');
  return `\nExamples:\n${body}\n${notes ? `\n${notes}\n` : ''}`;
}
