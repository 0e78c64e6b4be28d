import { isIP } from 'node:net';
import { invalidOption, MeshlessError } from '@meshless/core';

/**
 * The environment variable the SPIFFE Workload Endpoint specification names for the API's address.
 *
 * @example
 * ```ts
 * process.env[SPIFFE_ENDPOINT_SOCKET] = 'unix:///run/spire/agent-sockets/spire-agent.sock';
 * const source = await workloadApiSource();
 * ```
 */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET';

/** A validated Workload API address. */
export interface WorkloadApiAddress {
  /** The address as given, for messages. */
  readonly address: string;
  /** The grpc-js target: `unix:///path`, `ipv4:1.2.3.4:8081` or `ipv6:[::1]:8081`. */
  readonly target: string;
  /** The socket path, for a Unix domain socket. */
  readonly path?: string;
}

/**
 * Reads and validates a Workload API address, from `address` or else the `SPIFFE_ENDPOINT_SOCKET`
 * environment variable, with the rules of the SPIFFE Workload Endpoint specification (as go-spiffe
 * applies them): `unix:///absolute/path` (or `unix:/absolute/path`), or `tcp://IP:port` with an IP
 * address, not a host name. Nothing else: no query, fragment, user information or relative path.
 *
 * @throws MeshlessError `ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID`, whose `context.rule` says why.
 * @example
 * ```ts
 * parseWorkloadApiAddress('unix:///run/spire/agent-sockets/spire-agent.sock').target;
 * // 'unix:///run/spire/agent-sockets/spire-agent.sock'
 * parseWorkloadApiAddress('tcp://127.0.0.1:8081').target; // 'ipv4:127.0.0.1:8081'
 * ```
 */
export function parseWorkloadApiAddress(
  address: string | undefined = process.env[SPIFFE_ENDPOINT_SOCKET],
): WorkloadApiAddress {
  if (address === undefined || address === '') {
    throw invalid(
      '',
      'missing',
      `no Workload API address: pass address, or set ${SPIFFE_ENDPOINT_SOCKET} (for example unix:///run/spire/agent-sockets/spire-agent.sock)`,
    );
  }
  if (typeof address !== 'string') {
    throw invalidOption('workloadApiSource', 'address', address, 'a string (unix:///path or tcp://IP:port)');
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw invalid(
      address,
      'not-a-uri',
      `Workload API address "${address}" is not a URI (unix:///path or tcp://IP:port)`,
    );
  }
  if (url.username || url.password)
    throw invalid(address, 'userinfo', `Workload API address "${address}" must not hold user information`);
  if (url.search) throw invalid(address, 'query', `Workload API address "${address}" must not have a query`);
  if (url.hash)
    throw invalid(address, 'fragment', `Workload API address "${address}" must not have a fragment`);
  if (url.protocol === 'unix:') return unixAddress(address, url);
  if (url.protocol === 'tcp:') return tcpAddress(address, url);
  throw invalid(address, 'scheme', `Workload API address "${address}" must use the unix or tcp scheme`);
}

function unixAddress(address: string, url: URL): WorkloadApiAddress {
  if (url.host) {
    throw invalid(
      address,
      'unix-host',
      `Workload API address "${address}" has a host; write unix:///absolute/path`,
    );
  }
  if (!url.pathname.startsWith('/') || url.pathname === '/') {
    throw invalid(
      address,
      'unix-path',
      `Workload API address "${address}" must name an absolute socket path`,
    );
  }
  const path = decodeURIComponent(url.pathname);
  return Object.freeze({ address, target: `unix://${path}`, path });
}

function tcpAddress(address: string, url: URL): WorkloadApiAddress {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family === 0) {
    throw invalid(
      address,
      'tcp-ip',
      `Workload API address "${address}" must use an IP address, not a host name`,
    );
  }
  if (!url.port) throw invalid(address, 'tcp-port', `Workload API address "${address}" must include a port`);
  if (url.pathname && url.pathname !== '') {
    throw invalid(address, 'tcp-path', `Workload API address "${address}" must not have a path`);
  }
  const target = family === 4 ? `ipv4:${host}:${url.port}` : `ipv6:[${host}]:${url.port}`;
  return Object.freeze({ address, target });
}

function invalid(address: string, rule: string, message: string): MeshlessError {
  return new MeshlessError('ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID', message, {
    input: 'address',
    actual: address,
    rule,
  });
}
