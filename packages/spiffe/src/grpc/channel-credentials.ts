import tls, { type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  type Authorizer,
  assertKnownOptions,
  assertOptionsObject,
  authorize,
  type CertificateSource,
  CLIENT_TLS_OPTION_KEYS,
  identityFromCertificate,
  invalidOption,
  MeshlessError,
  peerCertificateChain,
  refusedOption,
  type SpiffeId,
  TRUST_BYPASSING_TLS_OPTIONS,
  verifyPeerTrustDomain,
} from '@meshless/core';
import { connectingWith } from './secure-connector.js';
import { SourceCertificateProvider } from './source-certificate-provider.js';

const WHERE = 'grpcChannelCredentials';

/**
 * Options of {@link grpcChannelCredentials}.
 *
 * @example
 * ```ts
 * const options: GrpcChannelCredentialsOptions = { authorizeServer: 'spiffe://example.org/ns/prod/sa/orders' };
 * ```
 */
export interface GrpcChannelCredentialsOptions {
  /**
   * The server's expected SPIFFE ID(s), or an authorizer. It replaces the host name check: SPIFFE
   * certificates often carry no DNS name. Without it, the server's certificate must name the target's
   * host, as with any TLS client.
   */
  authorizeServer?: Authorizer | string | SpiffeId | readonly (string | SpiffeId)[];
}

/**
 * Channel credentials for `@grpc/grpc-js` from any {@link CertificateSource}: the client presents the
 * source's certificate, verifies the server's chain against the source's trust bundle (a federated
 * server against its own trust domain's bundle), checks the server's SPIFFE ID with
 * `authorizeServer`, and each new connection uses the source's latest material, so rotation needs no
 * new channel. A refused server fails the call with UNAVAILABLE, whose details carry the
 * `ERR_MESHLESS_SERVER_UNAUTHORIZED` or `ERR_MESHLESS_PEER_BUNDLE_MISMATCH` message. While the source's
 * material is withdrawn, no new connection is made.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { grpcChannelCredentials, workloadApiSource } from '@meshless/spiffe';
 *
 * const source = await workloadApiSource();
 * const credentials = grpcChannelCredentials(source, { authorizeServer: 'spiffe://example.org/ns/prod/sa/orders' });
 * const client = new OrdersClient('orders.prod.svc:8443', credentials);
 * ```
 */
export function grpcChannelCredentials(
  source: CertificateSource,
  options: GrpcChannelCredentialsOptions = {},
): grpc.ChannelCredentials {
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw invalidOption(WHERE, 'source', source, 'a CertificateSource');
  }
  assertOptionsObject(WHERE, options);
  // grpc-js builds the channel's secure context from the certificate provider alone: a TLS option
  // given here could not apply, so it is refused rather than dropped.
  for (const key of [...CLIENT_TLS_OPTION_KEYS, ...Object.keys(TRUST_BYPASSING_TLS_OPTIONS)]) {
    if (key in options) {
      throw refusedOption(
        WHERE,
        key,
        "grpc-js builds the channel's TLS from the source alone and could not apply it",
      );
    }
  }
  for (const key of ['rejectUnauthorized', 'ca', 'cert', 'key', 'checkServerIdentity']) {
    if (key in options) {
      throw refusedOption(
        WHERE,
        key,
        "the server is verified against the source's bundle and authorizeServer",
      );
    }
  }
  assertKnownOptions(WHERE, options, ['authorizeServer']);
  const policy = serverPolicy(options.authorizeServer);
  const provider = new SourceCertificateProvider(source);
  const checkServerIdentity = (hostname: string, cert: PeerCertificate): Error | undefined => {
    try {
      const material = provider.material;
      if (!material) return new Error('the certificate source is withdrawn');
      const { leaf, presented } = peerCertificateChain(cert);
      verifyPeerTrustDomain(material, leaf, presented);
      if (!policy) return tls.checkServerIdentity(hostname, cert);
      const identity = identityFromCertificate(leaf);
      const decision = policy.check(identity);
      if (decision.allowed) return undefined;
      const actual = identity.spiffeId?.toString();
      return new MeshlessError(
        'ERR_MESHLESS_SERVER_UNAUTHORIZED',
        `the gRPC server ${hostname} is not allowed: expected ${policy.expected ?? 'a server the authorizeServer policy allows'}, found ${actual ?? `a certificate without a SPIFFE ID (subject "${identity.subject}")`} (${decision.reason})`,
        {
          address: hostname,
          reason: decision.reason,
          ...(policy.expected ? { expected: policy.expected } : {}),
          ...(actual ? { actual, spiffeId: actual } : { actual: identity.subject }),
        },
      );
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
  const inner = grpc.experimental.createCertificateProviderChannelCredentials(provider, provider, {
    checkServerIdentity,
  });
  // meshless makes the TLS connection itself, so that a server reached by IP address gets no IP as
  // its server name (Node 26 refuses one); see secure-connector.ts.
  return connectingWith(inner, { material: () => provider.material, checkServerIdentity });
}

function serverPolicy(
  value: GrpcChannelCredentialsOptions['authorizeServer'],
): { check: Authorizer; expected?: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return { check: value };
  const ids = (Array.isArray(value) ? value : [value]) as (string | SpiffeId)[];
  if (ids.length === 0) {
    throw invalidOption(WHERE, 'authorizeServer', value, 'an authorizer function or one or more SPIFFE IDs');
  }
  return { check: authorize.id(...ids), expected: ids.map(String).join(', ') };
}
