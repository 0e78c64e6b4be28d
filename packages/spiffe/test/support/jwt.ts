// JWT-SVID material for tests: authorities (key pairs with a kid) made at test time, their JWK Sets,
// and tokens signed with panva's jose, with any header or claim a test wants to get wrong.
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/** A JWT authority: a key pair, its kid, and its public JWK (with `use: jwt-svid` unless told). */
export interface TestAuthority {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/** A new authority for `alg` (ES256 by default); `use` null leaves `use` out of the JWK. */
export async function authority(
  kid: string,
  alg = 'ES256',
  use: string | null = 'jwt-svid',
): Promise<TestAuthority> {
  const pair = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, ...(use === null ? {} : { use }) };
  return { kid, alg, privateKey: pair.privateKey, jwk };
}

/** A JWK Set (SPIFFE bundle JSON) of the authorities' public keys, plus any extra raw keys. */
export function bundleJson(authorities: TestAuthority[], extra: object[] = []): string {
  return JSON.stringify({ keys: [...authorities.map((a) => a.jwk), ...extra] });
}

/** What a test may change about a token. */
export interface TokenSpec {
  sub?: string | undefined;
  aud?: string | string[] | undefined;
  /** Seconds from now; undefined leaves exp out. Default 300. */
  expIn?: number | undefined;
  nbfIn?: number;
  /** Header overrides: `kid: undefined` leaves kid out, `typ` sets or (undefined) omits typ. */
  header?: Record<string, unknown>;
  alg?: string;
}

/** Signs a JWT-SVID with `authority`: `sub` spiffe://example.org/workload, aud conformance, 5 min. */
export async function token(authority: TestAuthority, spec: TokenSpec = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {};
  const sub = 'sub' in spec ? spec.sub : 'spiffe://example.org/workload';
  if (sub !== undefined) claims.sub = sub;
  const aud = 'aud' in spec ? spec.aud : ['conformance'];
  if (aud !== undefined) claims.aud = aud;
  const expIn = 'expIn' in spec ? spec.expIn : 300;
  if (expIn !== undefined) claims.exp = now + expIn;
  if (spec.nbfIn !== undefined) claims.nbf = now + spec.nbfIn;
  claims.iat = now;
  const header: Record<string, unknown> = { alg: spec.alg ?? authority.alg, kid: authority.kid, typ: 'JWT' };
  for (const [name, value] of Object.entries(spec.header ?? {})) {
    if (value === undefined) delete header[name];
    else header[name] = value;
  }
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(authority.privateKey);
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS with arbitrary header and payload and an arbitrary signature part. */
export function rawToken(header: object, payload: object, signature = 'c2ln'): string {
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

/** The token with one bit of its signature flipped. */
export function flipSignatureBit(jws: string): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const bytes = Buffer.from(s, 'base64url');
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0x01;
  return `${h}.${p}.${bytes.toString('base64url')}`;
}

/** The token with its payload replaced (claims changed), the original signature kept. */
export function replacePayload(jws: string, change: (claims: JWTPayload) => JWTPayload): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as JWTPayload;
  return `${h}.${encode(change(claims))}.${s}`;
}

/**
 * Signs an ES256 compact JWS by hand (WebCrypto), for headers jose refuses to produce, such as an
 * unknown `crit` extension.
 */
export async function signEs256Raw(
  authority: TestAuthority,
  header: object,
  claims: object,
): Promise<string> {
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    authority.privateKey,
    Buffer.from(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
