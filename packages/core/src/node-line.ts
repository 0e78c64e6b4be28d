// What differs between the Node.js lines meshless supports (20, 22, 24, 26), in one place.
// docs/node-versions.md lists every difference a user can see and where each is handled:
//
// - TLS alert codes. Node spells `err.code` from OpenSSL's reason string. OpenSSL 3.0 (Node 20) says
//   "sslv3 alert bad certificate" (ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE); OpenSSL 3.5 (current Node 22,
//   24, 26) says "ssl/tls alert bad certificate" (ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE, slash
//   included). tlsAlertOf() reads both, so a refused client certificate is classified alike.
// - Key exchange groups. OpenSSL 3.5 has the hybrid post-quantum group X25519MLKEM768 (the default
//   of plain Node 24 and 26); OpenSSL 3.0 refuses its name. hasPostQuantumKeyExchange() says which.

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

/**
 * Whether the OpenSSL the running Node links has the hybrid post-quantum key exchange group
 * `X25519MLKEM768`: OpenSSL 3.5 and later (current Node 22, 24 and 26), not Node 20's OpenSSL 3.0.
 * Read from the version, not by trying the group: on Node 20 a refused `ecdhCurve` leaves an error
 * on OpenSSL's queue that makes a later, unrelated crypto call fail (a WebCrypto key import).
 *
 * @example
 * ```ts
 * const ecdhCurve = hasPostQuantumKeyExchange() ? 'X25519MLKEM768:X25519' : 'X25519';
 * ```
 */
export function hasPostQuantumKeyExchange(openssl: string = process.versions.openssl): boolean {
  const [major = 0, minor = 0] = openssl.split('.').map((part) => Number.parseInt(part, 10));
  return major > 3 || (major === 3 && minor >= 5);
}
