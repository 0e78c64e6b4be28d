import { usageError } from './errors.js';

/**
 * The passphrase of an encrypted key, from the environment variable the user named. Never from
 * the command line, where it would land in shell history and `ps` output.
 *
 * @example
 * ```ts
 * const passphrase = passphraseFrom(options.passphraseEnv, io.env); // --passphrase-env KEY_PASSPHRASE
 * ```
 */
export function passphraseFrom(
  variable: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (variable === undefined) return undefined;
  const value = env[variable];
  if (value === undefined || value === '')
    throw usageError(`--passphrase-env ${variable}: the variable is not set`);
  return value;
}
