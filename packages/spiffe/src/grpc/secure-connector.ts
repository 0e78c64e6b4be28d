// meshless's own TLS connect for grpc-js channels. grpc-js (1.14) always sends the target's host as
// the TLS server name (SNI), an IP address included; Node 26 refuses that (tls.connect throws
// ERR_INVALID_ARG_VALUE "Setting the TLS ServerName to an IP address is not permitted", a
// deprecation warning on Node 20 to 24), so no gRPC client could reach a server by IP address.
// This module is the one place that relies on grpc-js's connector seam: `ChannelCredentials.
// _createSecureConnector` (declared in its types, underscored) and the `SecureConnector` shape that
// `grpc.experimental` exports. packages/spiffe/test/grpc.test.ts dials 127.0.0.1 on every Node
// line and fails the day that seam changes.
import { isIP, type Socket } from 'node:net';
import tls, { type PeerCertificate, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { secureTlsDefaults, type TlsMaterial, trustedRootsPem } from '@meshless/core';

type CheckServerIdentity = (hostname: string, cert: PeerCertificate) => Error | undefined;

/** What a connection needs: the material now (undefined while withdrawn) and the server check. */
export interface ChannelTls {
  readonly material: () => TlsMaterial | undefined;
  readonly checkServerIdentity: CheckServerIdentity;
}

// The same parts grpc-js reads from a target URI: scheme, authority, path.
const URI = /^(?:([A-Za-z0-9+.-]+):)?(?:\/\/([^/]*)\/)?(.+)$/;

/**
 * The host a channel target names, as grpc-js finds it: the CONNECT target through a proxy, the first
 * address of an `ipv4:`/`ipv6:` list, `localhost` for Unix sockets, else the target's path.
 *
 * @example
 * ```ts
 * targetHost({ scheme: 'dns', path: '10.0.0.7:8443' }, {}); // '10.0.0.7'
 * ```
 */
export function targetHost(target: grpc.experimental.GrpcUri, options: grpc.ChannelOptions): string {
  const proxied = options['grpc.http_connect_target'];
  const match = typeof proxied === 'string' ? URI.exec(proxied) : null;
  const uri = match ? { scheme: match[1], path: match[3] as string } : target;
  let authority = uri.path;
  if (uri.scheme === 'unix' || uri.scheme === 'unix-abstract') authority = 'localhost';
  else if (uri.scheme === 'ipv4' || uri.scheme === 'ipv6') authority = uri.path.split(',')[0] ?? uri.path;
  return grpc.experimental.splitHostPort(authority)?.host ?? authority;
}

/**
 * Wraps grpc-js channel credentials so that meshless makes each TLS connection itself: with the
 * material current at that moment, meshless's TLS defaults, ALPN h2, and a server name (SNI) only
 * when the target is a host name, never an IP address. The wrapped credentials keep their part in
 * the channel's life (certificate provider listeners, readiness, call credentials).
 *
 * @example
 * ```ts
 * const credentials = connectingWith(inner, { material: () => provider.material, checkServerIdentity });
 * ```
 */
export function connectingWith(
  inner: grpc.ChannelCredentials,
  channelTls: ChannelTls,
): grpc.ChannelCredentials {
  return new MeshlessChannelCredentials(inner, channelTls);
}

class MeshlessChannelCredentials extends grpc.ChannelCredentials {
  readonly #inner: grpc.ChannelCredentials;
  readonly #tls: ChannelTls;
  readonly #contexts = new WeakMap<TlsMaterial, SecureContext>();

  constructor(inner: grpc.ChannelCredentials, channelTls: ChannelTls) {
    super();
    this.#inner = inner;
    this.#tls = channelTls;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    target: grpc.experimental.GrpcUri,
    options: grpc.ChannelOptions,
    callCredentials?: grpc.CallCredentials,
  ): grpc.experimental.SecureConnector {
    const lifecycle = this.#inner._createSecureConnector(target, options, callCredentials);
    const host = targetHost(target, options);
    const override = options['grpc.ssl_target_name_override'];
    return {
      connect: (socket) => this.#connect(socket, host, typeof override === 'string' ? override : undefined),
      waitForReady: () => lifecycle.waitForReady(),
      getCallCredentials: () => lifecycle.getCallCredentials(),
      destroy: () => lifecycle.destroy(),
    };
  }

  #context(material: TlsMaterial): SecureContext {
    let context = this.#contexts.get(material);
    if (!context) {
      context = tls.createSecureContext({
        ...secureTlsDefaults,
        cert: material.certPem,
        key: material.keyPem,
        ca: trustedRootsPem(material),
      });
      this.#contexts.set(material, context);
    }
    return context;
  }

  async #connect(
    socket: Socket,
    host: string,
    override: string | undefined,
  ): Promise<grpc.experimental.SecureConnectResult> {
    const material = this.#tls.material();
    if (!material) throw new Error('the certificate source is withdrawn: no new gRPC connection');
    const check = this.#tls.checkServerIdentity;
    return await new Promise((resolve, reject) => {
      const secure = tls.connect(
        {
          socket,
          host,
          secureContext: this.#context(material),
          ALPNProtocols: ['h2'],
          // SNI carries host names only (RFC 6066); Node 26 throws on an IP address.
          ...(override ? { servername: override } : isIP(host) ? {} : { servername: host }),
          checkServerIdentity: override ? (_name, cert) => check(override, cert) : check,
        },
        () => {
          secure.off('error', reject);
          secure.off('close', onClose);
          if (!secure.authorized) {
            secure.destroy();
            reject(secure.authorizationError);
            return;
          }
          resolve({ socket: secure, secure: true });
        },
      );
      const onClose = () => reject(new Error('the socket closed during the TLS handshake'));
      secure.once('error', reject);
      secure.once('close', onClose);
    });
  }
}
