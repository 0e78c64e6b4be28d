import { isMeshlessError, MeshlessError, tlsAlertOf } from '@meshless/core';
import type { ConnectionResult } from './connection.js';
import type { ProbeTarget } from './target.js';

// OpenSSL certificate verification results, as Node reports them in err.code.
const VERIFY_FAILURE =
  /^(UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_|ERROR_IN_CERT_)/;

// TLS alerts a server sends when it does not accept the client certificate (or its absence), by
// their RFC 8446 names (tlsAlertOf reads them in the spelling of every Node line's OpenSSL).
const CLIENT_CERT_ALERTS = new Set([
  'certificate_required',
  'unknown_ca',
  'bad_certificate',
  'certificate_unknown',
  'certificate_expired',
  'certificate_revoked',
  'unsupported_certificate',
  'access_denied',
  'decrypt_error',
]);

/**
 * Whether an error is the server refusing the client certificate, or the lack of one: a TLS
 * alert, in TLS 1.3 received only on the first read after the handshake.
 *
 * @example
 * ```ts
 * if (isClientCertificateRefusal(result.error)) console.log('the server demands a client certificate');
 * ```
 */
export function isClientCertificateRefusal(error: (Error & { code?: string }) | undefined): boolean {
  const alert = tlsAlertOf(error);
  return alert !== undefined && CLIENT_CERT_ALERTS.has(alert);
}

/**
 * Turns a failed probe connection into one `MeshlessError` with a clear reason: cannot connect,
 * no handshake, an untrusted server certificate, a host name or SPIFFE ID mismatch, or the
 * server refusing the client certificate.
 *
 * @example
 * ```ts
 * const result = await connect(options);
 * if (result.error) throw probeFailure(result, target, { presentedCertificate: true, ca: 'ca.crt' });
 * ```
 */
export function probeFailure(
  result: ConnectionResult,
  target: ProbeTarget,
  facts: { presentedCertificate: boolean; ca?: string },
): MeshlessError {
  const error: Error & { code?: string } = result.error ?? new Error('the connection closed');
  const code = error.code ?? '';
  const where = `${target.host}:${target.port}`;
  const context = { host: target.host, port: target.port, ...(code ? { actual: code, tlsCode: code } : {}) };
  if (isMeshlessError(error)) return error;
  if (result.stage === 'connect') {
    // The TCP connection itself failed: no TLS was spoken.
    return new MeshlessError(
      'ERR_MESHLESS_CONNECT_FAILED',
      `cannot connect to ${where}: ${connectReason(code, error)}`,
      context,
      error,
    );
  }
  if (VERIFY_FAILURE.test(code)) {
    const against = facts.ca ? `the trust bundle ${facts.ca}` : 'the system trust store (pass --ca)';
    return new MeshlessError(
      'ERR_MESHLESS_SERVER_CERT_UNTRUSTED',
      `the server certificate does not verify against ${against}: ${opensslReason(error.message)} (${code})`,
      context,
      error,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new MeshlessError(
      'ERR_MESHLESS_SERVER_NAME_MISMATCH',
      `${error.message}; to check a SPIFFE ID instead of the host name, pass --expect-id spiffe://...`,
      context,
      error,
    );
  }
  if (isClientCertificateRefusal(error)) {
    const alert = tlsAlertOf(error);
    return new MeshlessError(
      'ERR_MESHLESS_CLIENT_CERT_REJECTED',
      facts.presentedCertificate
        ? `the server refused our client certificate (${alert} alert): check that it trusts our CA and that the certificate is valid`
        : `the server demands a client certificate (${alert} alert): pass --cert and --key`,
      { ...context, alert },
      error,
    );
  }
  if (result.timedOut) {
    return new MeshlessError(
      'ERR_MESHLESS_TLS_HANDSHAKE_FAILED',
      `${where} accepted the connection but ${result.stage === 'handshake' ? 'did not complete a TLS handshake' : 'sent no answer'} within the timeout (is it a TLS server?)`,
      context,
      error,
    );
  }
  return new MeshlessError(
    'ERR_MESHLESS_TLS_HANDSHAKE_FAILED',
    handshakeReason(code, error, where),
    context,
    error,
  );
}

function connectReason(code: string, error: Error): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
      return `${error.message} (a firewall dropping packets, or the wrong address)`;
    default:
      return `${error.message}`;
  }
}

/**
 * The reason of an OpenSSL error without its noise: `808C...:error:0A00010B:SSL routines:
 * ssl3_get_record:wrong version number:../deps/...:350:` becomes `wrong version number`.
 *
 * @example
 * ```ts
 * opensslReason(err.message); // 'wrong version number'
 * ```
 */
export function opensslReason(message: string): string {
  const match = /:SSL routines:[^:]*:([^:]+):/.exec(message);
  return (match?.[1] ?? message).trim();
}

function handshakeReason(code: string, error: Error, where: string): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(error.message))
    return `${where} does not speak TLS (plain HTTP on that port?): ${opensslReason(error.message)}`;
  if (code === 'ECONNRESET' || /socket disconnected|socket hang up/i.test(error.message))
    return `${where} closed the connection during the TLS handshake (a client certificate it does not accept, or no protocol and cipher in common)`;
  if (tlsAlertOf(error) === 'handshake_failure')
    return `the server refused the handshake (handshake_failure alert): no TLS version or cipher in common with TLS 1.2+ AEAD suites, or it demands a client certificate`;
  return `the TLS handshake with ${where} failed: ${opensslReason(error.message)}${code ? ` (${code})` : ''}`;
}
