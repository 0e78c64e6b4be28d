import { constants } from 'node:crypto';
import tls, { type SecureContextOptions } from 'node:tls';
import { MeshlessError } from './errors.js';
import { invalidOption, refusedOption } from './options.js';
import { SECURE_CIPHERS, secureTlsDefaults } from './tls-defaults.js';

/**
 * The secure context options an application may set on a meshless server. Each one applies to every
 * secure context meshless builds (the first one and the one after each rotation); values weaker than
 * meshless's defaults are refused when the server is created.
 *
 * @example
 * ```ts
 * createServer({ source, authorize, minVersion: 'TLSv1.3', crl: fs.readFileSync('ca.crl') }, app);
 * ```
 */
export const SERVER_TLS_OPTION_KEYS = [
  'ciphers',
  'minVersion',
  'maxVersion',
  'ecdhCurve',
  'sigalgs',
  'honorCipherOrder',
  'secureOptions',
  'crl',
  'dhparam',
  'sessionTimeout',
  'sessionIdContext',
] as const;

/**
 * The secure context options an application may set on a meshless client (under `connect`), with
 * the same rules as on the server.
 *
 * @example
 * ```ts
 * createAgent({ source, connect: { crl: fs.readFileSync('ca.crl'), minVersion: 'TLSv1.3' } });
 * ```
 */
export const CLIENT_TLS_OPTION_KEYS = [
  'ciphers',
  'minVersion',
  'maxVersion',
  'ecdhCurve',
  'sigalgs',
  'secureOptions',
  'crl',
] as const;

/**
 * Secure context options of the application, checked once when a server or client is created and
 * then carried into every secure context meshless builds.
 */
export type ApplicationTlsOptions = Pick<SecureContextOptions, (typeof SERVER_TLS_OPTION_KEYS)[number]>;

/**
 * Options that would take trust decisions away from meshless (another certificate or context, a
 * key in an engine, pre-shared keys, partial chains, a pinned protocol method), and why each is
 * refused. `cert`, `key`, `ca`, `requestCert` and `rejectUnauthorized` are refused by each package
 * with its own message.
 *
 * @example
 * ```ts
 * if ('SNICallback' in options) throw refusedOption('createServer', 'SNICallback', TRUST_BYPASSING_TLS_OPTIONS.SNICallback);
 * ```
 */
export const TRUST_BYPASSING_TLS_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  SNICallback:
    'it can hand out secure contexts with other certificates and trust bundles than the source; serve one identity per meshless server',
  secureContext: "it would replace the secure context built from the source's material",
  pfx: 'certificates and keys come from the source (loadMaterial, watchCertificateFiles, workloadApiSource)',
  passphrase:
    'keys come decrypted from the source (pass the passphrase to loadMaterial or the watcher instead)',
  clientCertEngine: 'client certificates are verified by meshless against the trust bundle, not by an engine',
  privateKeyEngine: 'the private key comes from the source',
  privateKeyIdentifier: 'the private key comes from the source',
  secureProtocol: 'use minVersion and maxVersion (TLSv1.2 or TLSv1.3) instead of a fixed protocol method',
  pskCallback: 'pre-shared keys authenticate peers without certificates, bypassing SPIFFE identities',
  pskIdentityHint: 'pre-shared keys authenticate peers without certificates, bypassing SPIFFE identities',
  allowPartialTrustChain:
    'it lets intermediates of the bundle act as trust anchors; the bundle holds the roots',
});

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const ALLOWED_CIPHERS = new Set(SECURE_CIPHERS.split(':'));
// Named groups with at least 128-bit security, and the post-quantum hybrids of newer OpenSSL.
const ALLOWED_CURVES = new Set([
  'auto',
  'X25519',
  'X448',
  'prime256v1',
  'P-256',
  'secp384r1',
  'P-384',
  'secp521r1',
  'P-521',
]);
const WEAK_SIGALG = /sha1|sha224|md5|^dsa\+/i;
// OpenSSL options that re-enable insecure behaviour; the rest only restrict or tune.
const UNSAFE_SECURE_OPTIONS: ReadonlyArray<readonly [string, number | undefined]> = [
  'SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION',
  'SSL_OP_LEGACY_SERVER_CONNECT',
  'SSL_OP_ALLOW_NO_DHE_KEX',
  'SSL_OP_NO_ENCRYPT_THEN_MAC',
  'SSL_OP_TLS_ROLLBACK_BUG',
].map((name) => [name, (constants as unknown as Record<string, number | undefined>)[name]] as const);

type Checker = (where: string, value: unknown) => void;

const CHECKS: Record<(typeof SERVER_TLS_OPTION_KEYS)[number], Checker> = {
  ciphers: checkCiphers,
  minVersion: (where, value) => checkVersion(where, 'minVersion', value),
  maxVersion: (where, value) => checkVersion(where, 'maxVersion', value),
  ecdhCurve: checkCurves,
  sigalgs: checkSigalgs,
  honorCipherOrder: (where, value) => {
    if (typeof value !== 'boolean') throw invalidOption(where, 'honorCipherOrder', value, 'a boolean');
  },
  secureOptions: checkSecureOptions,
  crl: (where, value) => {
    const ok = (item: unknown) => typeof item === 'string' || Buffer.isBuffer(item);
    if (!(ok(value) || (Array.isArray(value) && value.length > 0 && value.every(ok)))) {
      throw invalidOption(where, 'crl', value, 'PEM CRLs as a string, a Buffer, or an array of them');
    }
  },
  dhparam: (where, value) => {
    if (!(typeof value === 'string' || Buffer.isBuffer(value))) {
      throw invalidOption(
        where,
        'dhparam',
        value,
        "'auto' or PEM Diffie-Hellman parameters (a string or a Buffer)",
      );
    }
  },
  sessionTimeout: (where, value) => {
    if (!(Number.isInteger(value) && (value as number) > 0 && (value as number) <= 2 ** 31 - 1)) {
      throw invalidOption(where, 'sessionTimeout', value, 'a positive whole number of seconds');
    }
  },
  sessionIdContext: (where, value) => {
    if (typeof value !== 'string' || value.length === 0) {
      throw invalidOption(where, 'sessionIdContext', value, 'a non-empty string');
    }
  },
};

/**
 * Picks the application's secure context options out of `options` (keys of `allowed`, by default
 * the server's), checks each, refuses those weaker than meshless's defaults and those that bypass
 * its trust ({@link TRUST_BYPASSING_TLS_OPTIONS}), and checks that OpenSSL accepts them together.
 * The result is frozen: taken once at creation, the same for every secure context built later.
 *
 * @example
 * ```ts
 * const applicationTls = applicationTlsOptions('createServer', options);
 * server.setSecureContext(serverContextOptions(material, ticketKeys, applicationTls));
 * ```
 */
export function applicationTlsOptions(
  where: string,
  options: Readonly<Record<string, unknown>>,
  allowed: readonly (typeof SERVER_TLS_OPTION_KEYS)[number][] = SERVER_TLS_OPTION_KEYS,
): Readonly<ApplicationTlsOptions> {
  for (const [key, why] of Object.entries(TRUST_BYPASSING_TLS_OPTIONS)) {
    if (key in options && options[key] !== undefined) throw refusedOption(where, key, why);
  }
  const picked: Record<string, unknown> = {};
  for (const key of allowed) {
    const value = options[key];
    if (value === undefined) continue;
    CHECKS[key](where, value);
    picked[key] = value;
  }
  checkVersionOrder(where, picked);
  checkOpenSslAccepts(where, picked);
  return Object.freeze(picked) as Readonly<ApplicationTlsOptions>;
}

function checkCiphers(where: string, value: unknown): void {
  const expected = `a ':'-separated list of cipher names from ${SECURE_CIPHERS} (forward secrecy and AEAD only)`;
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidOption(where, 'ciphers', value, expected);
  const refused = value.split(':').find((name) => !ALLOWED_CIPHERS.has(name.trim()));
  if (refused !== undefined) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${where}: ciphers must be ${expected}; got ${JSON.stringify(value)}, where ${JSON.stringify(refused)} is not one of them`,
      { input: 'ciphers', expected, actual: value },
    );
  }
}

function checkVersion(where: string, key: string, value: unknown): void {
  if (!VERSIONS.includes(value as (typeof VERSIONS)[number])) {
    throw invalidOption(where, key, value, `'TLSv1.2' or 'TLSv1.3' (meshless never allows older protocols)`);
  }
}

function checkVersionOrder(where: string, picked: Record<string, unknown>): void {
  const min = (picked.minVersion as string | undefined) ?? secureTlsDefaults.minVersion;
  const max = (picked.maxVersion as string | undefined) ?? secureTlsDefaults.maxVersion;
  if (
    VERSIONS.indexOf(min as (typeof VERSIONS)[number]) > VERSIONS.indexOf(max as (typeof VERSIONS)[number])
  ) {
    throw invalidOption(where, 'maxVersion', max, `at least minVersion (${min})`);
  }
}

function checkCurves(where: string, value: unknown): void {
  const expected = `a ':'-separated list of named groups among ${[...ALLOWED_CURVES].join(', ')} or ML-KEM hybrids`;
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidOption(where, 'ecdhCurve', value, expected);
  const refused = value.split(':').find((name) => !(ALLOWED_CURVES.has(name.trim()) || /MLKEM/i.test(name)));
  if (refused !== undefined) {
    throw invalidOption(where, 'ecdhCurve', value, `${expected} (${JSON.stringify(refused)} is not)`);
  }
}

function checkSigalgs(where: string, value: unknown): void {
  const expected = "a ':'-separated list of signature algorithms without SHA-1, SHA-224, MD5 or DSA";
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidOption(where, 'sigalgs', value, expected);
  const refused = value.split(':').find((name) => WEAK_SIGALG.test(name.trim()));
  if (refused !== undefined) {
    throw invalidOption(where, 'sigalgs', value, `${expected} (${JSON.stringify(refused)} is weak)`);
  }
}

function checkSecureOptions(where: string, value: unknown): void {
  if (!(Number.isSafeInteger(value) && (value as number) >= 0)) {
    throw invalidOption(where, 'secureOptions', value, 'a bit mask of crypto.constants.SSL_OP_* flags');
  }
  for (const [name, bit] of UNSAFE_SECURE_OPTIONS) {
    if (bit && ((value as number) & bit) === bit) {
      throw invalidOption(where, 'secureOptions', value, `flags that do not weaken TLS (${name} does)`);
    }
  }
}

// Checks the combination the way every later rotation will use it, so that a CRL or a parameter
// OpenSSL cannot read fails now, at creation, and never at a rotation.
function checkOpenSslAccepts(where: string, picked: Record<string, unknown>): void {
  if (Object.keys(picked).length === 0) return;
  try {
    tls.createSecureContext({ ...secureTlsDefaults, ...picked });
  } catch (cause) {
    throw new MeshlessError(
      'ERR_MESHLESS_INVALID_OPTION',
      `${where}: OpenSSL refused the TLS options ${Object.keys(picked).join(', ')}: ${(cause as Error).message}`,
      { input: Object.keys(picked).join(',') },
      cause,
    );
  }
}
