import { isIP } from 'node:net';
import { usageError } from '../errors.js';

/** Where `meshless probe` connects. */
export interface ProbeTarget {
  /** The URL as given, normalised. */
  url: string;
  /** Host name or IP address, without IPv6 brackets. */
  host: string;
  port: number;
  /** Path and query for the HTTP request sent over the connection. */
  path: string;
  /** Whether `host` is an IP address (no SNI is sent, and the IP SANs are checked). */
  isIp: boolean;
}

/**
 * Parses `https://HOST:PORT[/path]`; the port defaults to 443. Anything else is a usage error.
 *
 * @example
 * ```ts
 * parseTarget('https://127.0.0.1:8443/healthz'); // { host: '127.0.0.1', port: 8443, path: '/healthz', ... }
 * ```
 */
export function parseTarget(text: string): ProbeTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${JSON.stringify(text)} is not a URL; expected https://HOST:PORT`);
  }
  if (url.protocol !== 'https:')
    throw usageError(`${JSON.stringify(text)}: only https:// URLs can be probed`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 443 : Number(url.port);
  return { url: url.toString(), host, port, path: `${url.pathname}${url.search}`, isIp: isIP(host) !== 0 };
}
