import type { SecureContextOptions } from 'node:tls';

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
  ecdhCurve: 'X25519:prime256v1:secp384r1',
});
