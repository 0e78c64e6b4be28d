// What differs between the Node.js lines meshless supports (20, 22, 24, 26), in one place.
// docs/node-versions.md lists every difference a user can see and where each is handled:
//
// - TLS alert codes. Node spells `err.code` from OpenSSL's reason string. OpenSSL 3.0 (Node 20) says
//   "sslv3 alert bad certificate" (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE); OpenSSL 3.5 (current Node 22,
//   24, 26) says "ssl/tls alert bad certificate" (ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE, slash
//   included). tlsAlertOf() reads both, so a refused client certificate is classified alike.
// - Key exchange groups. OpenSSL 3.5 has the hybrid post-quantum group X25519MLKEM768 (the default
//   of plain Node 24 and 26); OpenSSL 3.0 refuses its name. supportsTlsGroup() finds out once.
import tls from 'node:tls';

const ALERT_CODE = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_([A-Z0-9_]+)$/;

/**
 * The TLS alert a Node TLS error reports having received from the peer, by its RFC 8446 name in
 * snake case (`bad_certificate`, `unknown_ca`, `certificate_required`, ...), whichever OpenSSL
 * spelling the running Node line uses; `undefined` when the error is not a received alert.
 *
 * @example
 * ```ts
 * socket.on('error', (err) => {
 *   if (tlsAlertOf(err) === 'certificate_required') console.error('the server wants a client certificate');
 * });
 * ```
 */
export function tlsAlertOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  return ALERT_CODE.exec(code)?.[1]?.toLowerCase();
}

const groupSupport = new Map<string, boolean>();

/**
 * Whether the OpenSSL that the running Node links accepts `group` as a TLS key exchange group
 * (`X25519MLKEM768` needs OpenSSL 3.5: current Node 22, 24 and 26, not Node 20). Checked once per name.
 *
 * @example
 * ```ts
 * const ecdhCurve = supportsTlsGroup('X25519MLKEM768') ? 'X25519MLKEM768:X25519' : 'X25519';
 * ```
 */
export function supportsTlsGroup(group: string): boolean {
  let supported = groupSupport.get(group);
  if (supported === undefined) {
    try {
      tls.createSecureContext({ ecdhCurve: group });
      supported = true;
    } catch {
      supported = false;
    }
    groupSupport.set(group, supported);
  }
  return supported;
}
