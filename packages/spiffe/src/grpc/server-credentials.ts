import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  type ApplicationTlsOptions,
  type Authorizer,
  applicationTlsOptions,
  assertKnownOptions,
  assertOptionsObject,
  type CertificateSource,
  channels,
  invalidOption,
  PeerAdmission,
  SERVER_TLS_OPTION_KEYS,
  serverContextOptions,
  type TlsMaterial,
} from '@meshless/core';
import { socketOfCall } from './call-socket.js';
import { callVerdict, connectionVerdict, type PeerVerdict } from './peer-verdict.js';

const authorizationChannel = diagnostics.channel(channels.authorization);

/**
 * Options of {@link grpcServerCredentials}.
 *
 * @example
 * ```ts
 * const options: GrpcServerCredentialsOptions = { authorize: authorize.memberOf('example.org') };
 * ```
 */
export interface GrpcServerCredentialsOptions extends ApplicationTlsOptions {
  /**
   * Decides which verified clients may call: others get PERMISSION_DENIED. Required: pass
   * `authorize.any()` to accept every client the trust bundle vouches for, on purpose.
   */
  authorize: Authorizer;
  /** 48 bytes of TLS session ticket keys, kept across rotations. Default: generated. */
  ticketKeys?: Buffer;
  // The TLS options of ApplicationTlsOptions (crl, secureOptions, minVersion, ...) apply to every
  // secure context, rotations included; weaker ones than the defaults are refused.
}

const WHERE = 'grpcServerCredentials';

/**
 * grpc-js server credentials whose certificate, key and trust bundle follow a certificate source.
 * grpc-js watches credentials for new secure context options and applies them with
 * `setSecureContext()`; this class feeds it from the source's `update` events, and gives it `null`
 * (grpc-js then drops new connections) while the source's material is withdrawn.
 */
class SourceServerCredentials extends grpc.ServerCredentials {
  readonly #source: CertificateSource;
  readonly #ticketKeys: Buffer;
  readonly #applicationTls: Readonly<ApplicationTlsOptions>;
  /** Judges each client certificate, full and resumed handshakes, and binds sessions to this server. */
  readonly admission = new PeerAdmission();
  #material: TlsMaterial;
  #withdrawn = false;
  readonly #onUpdate = (material: TlsMaterial) => {
    this.#material = material;
    this.#withdrawn = false;
    this.updateSecureContextOptions(this.#contextOptions(material));
  };
  readonly #onWithdrawn = () => {
    this.#withdrawn = true;
    this.updateSecureContextOptions(null);
  };

  constructor(
    source: CertificateSource,
    ticketKeys: Buffer,
    applicationTls: Readonly<ApplicationTlsOptions>,
  ) {
    const material = source.current();
    // Mutual TLS: OpenSSL refuses a client without a certificate that verifies against the bundle.
    // The secure context options are given at once below, when the admission exists.
    super({ requestCert: true, rejectUnauthorized: true }, {});
    this.#source = source;
    this.#ticketKeys = ticketKeys;
    this.#applicationTls = applicationTls;
    this.#material = material;
    this.updateSecureContextOptions(this.#contextOptions(material));
  }

  // Every secure context: the full set, with the session id context that binds sessions to this
  // server and its trust bundle, so that each resumption meets the verdict of its full handshake.
  #contextOptions(material: TlsMaterial): SecureContextOptions {
    return {
      ...serverContextOptions(material, this.#ticketKeys, this.#applicationTls),
      sessionIdContext: this.admission.sessionIdContext(
        material,
        'strict',
        this.#applicationTls.sessionIdContext,
      ),
    };
  }

  /** The material of the latest handshakes: what peers are verified against. */
  get material(): TlsMaterial {
    return this.#material;
  }

  override _addWatcher(watcher: Parameters<grpc.ServerCredentials['_addWatcher']>[0]): void {
    if (this.getWatcherCount() === 0) {
      this.#source.on('update', this.#onUpdate);
      this.#source.on('withdrawn', this.#onWithdrawn);
    }
    super._addWatcher(watcher);
  }

  override _removeWatcher(watcher: Parameters<grpc.ServerCredentials['_removeWatcher']>[0]): void {
    super._removeWatcher(watcher);
    if (this.getWatcherCount() === 0) {
      this.#source.off('update', this.#onUpdate);
      this.#source.off('withdrawn', this.#onWithdrawn);
    }
  }

  // Read when a port is bound: the source's latest material, whether or not a watcher saw it change.
  override _getSecureContextOptions(): SecureContextOptions | null {
    if (this.#withdrawn) return null;
    try {
      this.#material = this.#source.current();
    } catch {
      return null;
    }
    return this.#contextOptions(this.#material);
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Server credentials for `@grpc/grpc-js` from any {@link CertificateSource}: mutual TLS with the
 * source's certificate and trust bundle (federated bundles included, each client checked against its
 * own trust domain's bundle), hot rotation without dropping connections, and SPIFFE authorization of
 * the client on every call: a client without a verified certificate gets UNAUTHENTICATED, one the
 * authorizer denies gets PERMISSION_DENIED, before the handler runs. The client's identity is read
 * once per connection; handlers get it with {@link grpcPeerOf}.
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { authorize } from '@meshless/core';
 * import { grpcServerCredentials, workloadApiSource } from '@meshless/spiffe';
 *
 * const source = await workloadApiSource();
 * const server = new grpc.Server();
 * server.addService(service, handlers);
 * const credentials = grpcServerCredentials(source, { authorize: authorize.id('spiffe://example.org/ns/prod/sa/web') });
 * server.bindAsync('0.0.0.0:8443', credentials, () => {});
 * ```
 */
export function grpcServerCredentials(
  source: CertificateSource,
  options: GrpcServerCredentialsOptions,
): grpc.ServerCredentials {
  if (!source || typeof source.current !== 'function' || typeof source.on !== 'function') {
    throw invalidOption(WHERE, 'source', source, 'a CertificateSource');
  }
  assertOptionsObject(WHERE, options);
  // Refuses trust bypasses and weaker settings first, so they get their reason rather than "unknown".
  const applicationTls = applicationTlsOptions(WHERE, options as unknown as Record<string, unknown>);
  assertKnownOptions(WHERE, options, ['authorize', 'ticketKeys', ...SERVER_TLS_OPTION_KEYS]);
  if (typeof options.authorize !== 'function') {
    throw invalidOption(
      WHERE,
      'authorize',
      options.authorize,
      "an authorizer function (e.g. authorize.id('spiffe://...'), or authorize.any() to accept every verified client)",
    );
  }
  const ticketKeys = options.ticketKeys ?? randomBytes(48);
  if (!Buffer.isBuffer(ticketKeys) || ticketKeys.length !== 48) {
    throw invalidOption(WHERE, 'ticketKeys', ticketKeys, 'a 48-byte Buffer');
  }
  const credentials = new SourceServerCredentials(source, ticketKeys, applicationTls);
  const interceptor = authorizationInterceptor(options.authorize, credentials);
  return grpc.experimental.createServerCredentialsWithInterceptors(credentials, [interceptor]);
}

// Credentials' interceptors run first, on the base call, so the connection's socket is within reach.
function authorizationInterceptor(
  authorize: Authorizer,
  credentials: SourceServerCredentials,
): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const socket = socketOfCall(call);
            const { admission, material } = credentials;
            const verdict = socket
              ? connectionVerdict(socket, authorize, material, admission)
              : callVerdict(call, authorize, material, admission);
            if (authorizationChannel.hasSubscribers) publishDecision(verdict);
            if (verdict.refusal) call.sendStatus({ ...verdict.refusal, metadata: new grpc.Metadata() });
            else proceed(metadata);
          },
        });
      },
    });
}

function publishDecision(verdict: PeerVerdict): void {
  const { decision } = verdict;
  if (!decision) return;
  authorizationChannel.publish({
    decision: !decision.allowed
      ? 'deny'
      : decision.enforced === false && decision.wouldAllow === false
        ? 'audit_deny'
        : 'allow',
    enforced: decision.enforced !== false,
    reason: decision.reason,
    peer: verdict.peer,
    security: 'mtls',
    connectionClosed: false,
  });
}
