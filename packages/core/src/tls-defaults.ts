import type { SecureContextOptions } from 'node:tls';
import { hasPostQuantumKeyExchange } from './node-line.js';

/**
 * TLS 1.3 suites first (all AEAD), then ECDHE with AEAD ciphers only for TLS 1.2: forward secrecy
 * only. Part of {@link secureTlsDefaults}.
 *
 * @example
 * ```ts
 * tls.connect({ host, port, ciphers: SECURE_CIPHERS, minVersion: 'TLSv1.2', cert, key, ca });
 * ```
 */
export const SECURE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Key exchange groups, best first. Where OpenSSL has it (3.5: current Node 22, 24, 26), the hybrid
 * post-quantum X25519MLKEM768 leads, as in plain Node 24's own default, so that recorded traffic
 * stays secret from a future quantum computer; Node 20's OpenSSL 3.0 gets the classic list. The `*`
 * marks the groups a client sends key shares for: both, so a peer without ML-KEM answers at once
 * with X25519 instead of asking for another round trip. Part of {@link secureTlsDefaults}.
 *
 * @example
 * ```ts
 * tls.connect({ host, port, ecdhCurve: SECURE_ECDH_CURVE, cert, key, ca });
 * ```
 */
export const SECURE_ECDH_CURVE = hasPostQuantumKeyExchange()
  ? '*X25519MLKEM768:*X25519:prime256v1:secp384r1'
  : 'X25519:prime256v1:secp384r1';

/**
 * The secure TLS defaults meshless uses everywhere: TLS 1.2 minimum, TLS 1.3 preferred, ECDHE with
 * AEAD ciphers only for TLS 1.2. Kept in one place so server and client cannot drift apart.
 *
 * @example
 * ```ts
 * import tls from 'node:tls';
 * const context = tls.createSecureContext({ ...secureTlsDefaults, cert, key, ca });
 * ```
 */
export const secureTlsDefaults: Readonly<
  Required<
    Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'ecdhCurve'>
  >
> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: SECURE_CIPHERS,
  honorCipherOrder: true,
  ecdhCurve: SECURE_ECDH_CURVE,
});
