/** Why a TLS handshake failed, in the few buckets an operator alerts on. */
export type HandshakeFailureReason =
  | 'no_certificate'
  | 'unknown_ca'
  | 'expired'
  | 'bad_certificate'
  | 'timeout'
  | 'protocol';

const UNKNOWN_CA = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * Sorts a failed handshake into a {@link HandshakeFailureReason}. Node verifies a client certificate
 * after OpenSSL's handshake and then destroys the socket, leaving the verdict in
 * `socket.authorizationError` (an OpenSSL verify code) while the error itself only says the socket
 * closed; otherwise OpenSSL's error code and message are the only record of why.
 *
 * @example
 * ```ts
 * server.on('tlsClientError', (err, socket) => log.warn(classifyHandshakeFailure(err, socket.authorizationError)));
 * ```
 */
export function classifyHandshakeFailure(
  error: Error & { code?: string },
  authorizationError?: string | Error | null,
): HandshakeFailureReason {
  const verify =
    typeof authorizationError === 'string'
      ? authorizationError
      : (authorizationError as { code?: string } | null | undefined)?.code;
  if (verify) {
    if (EXPIRED.has(verify)) return 'expired';
    if (UNKNOWN_CA.has(verify)) return 'unknown_ca';
    return 'bad_certificate';
  }
  const text = `${error.code ?? ''} ${error.message}`.toLowerCase();
  if (text.includes('did not return a certificate') || text.includes('certificate_required'))
    return 'no_certificate';
  if (text.includes('timed out') || text.includes('timeout')) return 'timeout';
  if (text.includes('expired')) return 'expired';
  if (
    text.includes('unknown ca') ||
    text.includes('unable to get local issuer') ||
    text.includes('self signed') ||
    text.includes('unable to verify')
  )
    return 'unknown_ca';
  if (text.includes('certificate')) return 'bad_certificate';
  return 'protocol';
}

/**
 * The {@link HandshakeFailureReason} of a peer certificate that OpenSSL verified and meshless refused
 * (`PeerAdmission`): expired since its session was made, of a trust domain without a bundle, or
 * breaking the X509-SVID profile or the key policy.
 *
 * @example
 * ```ts
 * const refusal = admission.admit(leaf, resumed, material);
 * if (refusal) channel.publish({ reason: reasonOfPeerRefusal(refusal), error: refusal });
 * ```
 */
export function reasonOfPeerRefusal(error: Error & { code?: string }): HandshakeFailureReason {
  switch (error.code) {
    case 'ERR_MESHLESS_CERT_EXPIRED':
    case 'ERR_MESHLESS_CERT_NOT_YET_VALID':
      return 'expired';
    case 'ERR_MESHLESS_PEER_BUNDLE_MISMATCH':
    case 'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN':
      return 'unknown_ca';
    default:
      return 'bad_certificate';
  }
}
