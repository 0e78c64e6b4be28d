import { type ApplicationTlsOptions, applicationTlsOptions } from '@meshless/core';
import type { MeshlessServerOptions } from './options.js';

const captured = new WeakMap<object, Readonly<ApplicationTlsOptions>>();

/**
 * The application's TLS options of a server (crl, secureOptions, ciphers, ...), checked and copied
 * once per options object: the server's first secure context and every one built at a rotation
 * use this same copy, so none is dropped and a later change of the options object has no effect.
 *
 * @example
 * ```ts
 * server.setSecureContext(serverContextOptions(material, ticketKeys, applicationTlsOf(options)));
 * ```
 */
export function applicationTlsOf(
  options: MeshlessServerOptions,
  where = 'meshless server',
): Readonly<ApplicationTlsOptions> {
  let tls = captured.get(options);
  if (!tls) {
    tls = applicationTlsOptions(where, options as unknown as Record<string, unknown>);
    captured.set(options, tls);
  }
  return tls;
}
