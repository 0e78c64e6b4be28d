import { MeshlessError } from '@meshless/core';
import type { MaterialFiles } from './layouts.js';

/**
 * Makes sure an error about one of the three inputs names its file. `loadMaterial` names the file in
 * most of its errors, but not in all (expiry and chain errors speak of the certificate); an operator
 * reading an alert needs the path either way. Errors that already name it are returned as they are.
 *
 * @example
 * ```ts
 * const error = attributeToFile(err, { cert: '/etc/tls/tls.crt', key: '/etc/tls/tls.key', ca: '/etc/tls/ca.crt' });
 * error.context.file; // '/etc/tls/tls.crt' for an expired certificate
 * ```
 */
export function attributeToFile(error: MeshlessError, files: MaterialFiles): MeshlessError {
  const input = error.context.input;
  if (error.context.file !== undefined || (input !== 'cert' && input !== 'key' && input !== 'ca'))
    return error;
  const file = files[input];
  // Same code, same context plus the file; the original stays reachable as the cause.
  return new MeshlessError(error.code, `${error.message} (in ${file})`, { ...error.context, file }, error);
}
