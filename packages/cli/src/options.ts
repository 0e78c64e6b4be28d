import { parseSpiffeId } from '@meshless/core';
import { parseDuration } from '@meshless/pki';
import { InvalidArgumentError } from 'commander';

/**
 * Commander argument parser for durations (`24h`, `90d`, `1h30m`): a malformed value is a usage
 * error (exit 2) with the reason. The string is kept, the libraries parse it again.
 *
 * @example
 * ```ts
 * command.option('--ttl <duration>', 'lifetime', durationArgument);
 * ```
 */
export function durationArgument(value: string): string {
  try {
    parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/**
 * The same as {@link durationArgument}, returning milliseconds.
 *
 * @example
 * ```ts
 * command.option('--timeout <duration>', 'per connection', durationMsArgument, 10_000);
 * ```
 */
export function durationMsArgument(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * Commander argument parser for SPIFFE IDs: checked strictly (as go-spiffe), canonical form kept.
 *
 * @example
 * ```ts
 * command.requiredOption('--spiffe-id <id>', 'the workload SPIFFE ID', spiffeIdArgument);
 * ```
 */
export function spiffeIdArgument(value: string): string {
  try {
    return parseSpiffeId(value).toString();
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/**
 * Commander argument parser for repeatable options (`--dns a --dns b`): collects the values.
 *
 * @example
 * ```ts
 * command.option('--dns <name>', 'a DNS SAN (repeatable)', collect, []);
 * ```
 */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
