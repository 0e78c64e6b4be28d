import { styleText } from 'node:util';
import type { Io, Output } from '../io.js';

/** The few styles the CLI uses. */
export type Style = 'green' | 'red' | 'yellow' | 'dim' | 'bold';

/** Applies a style to text, or returns it unchanged when colour is off. */
export type Paint = (style: Style, text: string) => string;

/**
 * Colour only for a terminal, and never when `NO_COLOR` is set to anything but the empty string
 * (https://no-color.org): piped output and logs stay plain text that scripts can match.
 *
 * @example
 * ```ts
 * const paint = painter(io.stdout, io.env);
 * io.stdout.write(`${paint('green', '✓')} key matches\n`);
 * ```
 */
export function painter(stream: Output, env: Io['env']): Paint {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  if (!stream.isTTY || noColour) return (_style, text) => text;
  // The decision is ours, made on the stream we write to: styleText must not make its own from
  // process.stdout (newer Node versions would, and would disagree for a non-process stream).
  return (style, text) => styleText(style, text, { validateStream: false });
}
