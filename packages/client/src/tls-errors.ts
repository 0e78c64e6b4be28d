import { isMeshlessError, MeshlessError, tlsAlertOf } from '@meshless/core';

/** Where a connection was when it failed, for the message and `err.context`. */
export interface ConnectionContext {
  /** `host:port` as dialled. */
  readonly address: string;
  /** The server name sent (SNI), when one was. */
  readonly servername?: string;
  /** Whether the client offered a TLS session for resumption. */
  readonly sessionOffered?: boolean;
  /** Whether the server resumed it (known once the handshake is done). */
  readonly resumed?: boolean;
}

/**
 * OpenSSL's certificate verification results as Node reports them (`err.code`) when the server's
 * chain does not verify against the trust bundle. Each means "do not trust this server".
 */
const CHAIN_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

const CHAIN_HINTS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the server certificate (or a CA above it) has expired; the server must rotate it',
  CERT_NOT_YET_VALID:
    'the server certificate is not valid yet; check the clocks of the server, its CA and this host',
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'the server presents a self-signed certificate that is not in the trust bundle',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server chain ends in a root that is not in the trust bundle (a foreign CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'nothing in the trust bundle issued the server certificate: it comes from a foreign CA, or the server does not send its intermediates',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'the issuer of the server chain is not in the trust bundle: a foreign CA, or a missing intermediate',
};

/**
 * Server alerts that say our certificate was refused: the TLS alert names, as in RFC 8446
 * (tlsAlertOf reads them in the spelling of every Node line's OpenSSL).
 */
const CLIENT_CERT_ALERTS = new Set([
  'bad_certificate',
  'unknown_ca',
  'certificate_required',
  'certificate_expired',
  'certificate_revoked',
  'certificate_unknown',
  'unsupported_certificate',
  'access_denied',
]);

const ALERT_HINTS: Record<string, string> = {
  unknown_ca:
    'the server does not trust the CA that issued our certificate (a different trust bundle on the server)',
  bad_certificate:
    'the server found our certificate unacceptable (a bad chain, a wrong key usage, or its own policy)',
  certificate_required: 'the server requires a client certificate and received none',
  certificate_expired:
    'the server considers our certificate expired; check the rotation of our certificate and the clocks',
  certificate_revoked: 'the server considers our certificate revoked',
  certificate_unknown: 'the server could not verify our certificate',
  unsupported_certificate: 'the server does not accept the type of our certificate',
  access_denied: 'the server verified our certificate and refused access to its identity',
};

/**
 * Turns an error from a TLS connection into a {@link MeshlessError} a person can act on, keeping
 * the original as `cause`; a MeshlessError is returned unchanged. `stage` says whether the
 * handshake was still running ('handshake') or had completed ('established'): after a TLS 1.3
 * handshake the client learns only on its first read that the server refused its certificate.
 *
 * @example
 * ```ts
 * socket.on('error', (err) => callback(toMeshlessError(err, { address: '10.0.0.7:8443' }, 'handshake')));
 * ```
 */
export function toMeshlessError(
  error: unknown,
  where: ConnectionContext,
  stage: 'handshake' | 'established',
): Error {
  if (isMeshlessError(error)) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const context = { ...where, tlsCode: code || undefined };

  if (CHAIN_CODES.has(code)) {
    const hint = CHAIN_HINTS[code] ?? 'the server chain does not verify against the trust bundle';
    return new MeshlessError(
      'ERR_MESHLESS_SERVER_CERT_UNTRUSTED',
      `the certificate of the server at ${where.address} was not trusted (${code}): ${hint}`,
      { ...context, rule: code },
      err,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new MeshlessError(
      'ERR_MESHLESS_SERVER_NAME_MISMATCH',
      `the certificate of the server at ${where.address} does not name ${where.servername ?? where.address}: ${err.message}; SPIFFE certificates often carry no DNS name, so pass authorizeServer with the SPIFFE ID you expect`,
      {
        ...context,
        expected: where.servername ?? where.address,
        actual: (err as { cert?: { subjectaltname?: string } }).cert?.subjectaltname,
      },
      err,
    );
  }
  const name = tlsAlertOf(err);
  if (name && CLIENT_CERT_ALERTS.has(name)) {
    return new MeshlessError(
      'ERR_MESHLESS_CLIENT_CERT_REJECTED',
      `the server at ${where.address} rejected our client certificate with the TLS alert ${name}: ${ALERT_HINTS[name] ?? err.message}`,
      { ...context, alert: name },
      err,
    );
  }
  if (stage === 'handshake' || code.startsWith('ERR_SSL_')) {
    return new MeshlessError(
      'ERR_MESHLESS_TLS_HANDSHAKE_FAILED',
      `the TLS handshake with ${where.address} failed: ${describeHandshakeFailure(code, err)}`,
      context,
      err,
    );
  }
  return err;
}

const SILENT_CLOSE_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Whether `error` is the connection ending (end of stream, reset, broken pipe) rather than a
 * protocol error.
 */
export function isConnectionClosed(error: unknown): boolean {
  return SILENT_CLOSE_CODES.has((error as { code?: unknown })?.code as string);
}

/**
 * The error for a server that closed the connection right after the handshake, before sending
 * anything: Node's TLS servers refuse an untrusted client certificate that way, without an alert,
 * once the client has already finished its side of a TLS 1.3 handshake.
 *
 * @example
 * ```ts
 * if (!anythingReceived && isConnectionClosed(err)) err = silentRejection(err, where);
 * ```
 */
export function silentRejection(error: Error, where: ConnectionContext): MeshlessError {
  return new MeshlessError(
    'ERR_MESHLESS_CLIENT_CERT_REJECTED',
    `the server at ${where.address} closed the connection right after the TLS handshake, before answering and without a TLS alert (${(error as { code?: string }).code ?? error.message}): servers close this way when they do not accept our client certificate; check that the server trusts the CA of our certificate, and its logs`,
    { ...where, alert: undefined, evidence: 'closed-after-handshake' },
    error,
  );
}

function describeHandshakeFailure(code: string, err: Error): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return `the server did not answer in TLS (${code}); it may serve plaintext HTTP on this port`;
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return `the server closed the connection during the handshake (${code}); it may not accept TLS here, or it refused us before sending an alert`;
  }
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/.test(code)) {
    return `no common TLS version (${code}); meshless requires TLS 1.2 or newer`;
  }
  if (/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NO_CIPHERS/.test(code)) {
    return `no common cipher suite or key exchange (${code}); meshless requires forward-secret AEAD suites`;
  }
  return code ? `${err.message} (${code})` : err.message;
}
