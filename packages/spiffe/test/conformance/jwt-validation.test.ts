// The SPIFFE conformance catalogue's JV group (JWT-SVID validation), one test per catalogue ID, named
// by it. Every negative case first shows that the same validator, with the same bundles, accepts a
// valid token (the positive control), so a validator that refuses everything fails here.
import { createPublicKey } from 'node:crypto';
import { isMeshlessError } from '@meshless/core';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JWT_SVID_ALGORITHMS, jwtBundleSet, parseJwtBundle, validateJwtSvid } from '../../src/index.js';
import type { JwtBundleSource } from '../../src/jwt/bundle-source.js';
import {
  authority,
  bundleJson,
  flipSignatureBit,
  rawToken,
  replacePayload,
  signEs256Raw,
  type TestAuthority,
  token,
} from '../support/jwt.js';

const AUDIENCE = 'conformance';
let es256: TestAuthority;
let bundles: JwtBundleSource;

async function accepts(jws: string, source = bundles, audience = AUDIENCE) {
  return validateJwtSvid(jws, { audience, bundles: source });
}

/** Asserts that `jws` is refused with ERR_MESHLESS_JWT_SVID_INVALID and `rule`, after a positive control. */
async function refuses(jws: string, rule: string, source = bundles, audience = AUDIENCE) {
  await expect(accepts(await token(es256), source)).resolves.toMatchObject({ hint: '' });
  const error = await accepts(jws, source, audience).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isMeshlessError(error, 'ERR_MESHLESS_JWT_SVID_INVALID'), String(error)).toBe(true);
  expect((error as { context: { rule: string } }).context.rule).toBe(rule);
}

beforeAll(async () => {
  es256 = await authority('es256-key');
  bundles = jwtBundleSet([parseJwtBundle('example.org', bundleJson([es256]))]);
});

describe('JV: JWT-SVID validation', () => {
  it('JV-1: accepts a valid token and returns sub as the SPIFFE ID', async () => {
    const svid = await accepts(await token(es256));
    expect(svid.spiffeId.toString()).toBe('spiffe://example.org/workload');
    expect(svid.audience).toEqual(['conformance']);
    expect(svid.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  describe('JV-2: accepts every supported alg', () => {
    it.each(JWT_SVID_ALGORITHMS.map((alg) => [alg]))('JV-2/%s', async (alg) => {
      const signer = await authority(`${alg}-key`, alg);
      const source = jwtBundleSet([parseJwtBundle('example.org', bundleJson([es256, signer]))]);
      const svid = await accepts(await token(signer), source);
      expect(svid.spiffeId.toString()).toBe('spiffe://example.org/workload');
    });
  });

  it('JV-3: rejects alg none', async () => {
    const claims = {
      sub: 'spiffe://example.org/workload',
      aud: ['conformance'],
      exp: Date.now() / 1000 + 300,
    };
    // With an empty signature part (the usual shape) and with a non-empty one.
    await refuses(rawToken({ alg: 'none', kid: es256.kid }, claims, ''), 'malformed');
    await refuses(rawToken({ alg: 'none', kid: es256.kid }, claims, 'AAAA'), 'alg');
  });

  describe('JV-4: rejects HS256/HS384/HS512, HMAC keyed with the bundle key PEM included', () => {
    it.each([['HS256'], ['HS384'], ['HS512']])('JV-4/%s', async (alg) => {
      const pem = createPublicKey({ key: es256.jwk as never, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      });
      const jws = await new SignJWT({ sub: 'spiffe://example.org/workload', aud: ['conformance'] })
        .setProtectedHeader({ alg, kid: es256.kid, typ: 'JWT' })
        .setExpirationTime('5m')
        .sign(Buffer.from(pem));
      await refuses(jws, 'alg');
    });
  });

  it('JV-5: rejects EdDSA even with an Ed25519 key in the bundle', async () => {
    const ed = await authority('ed-key', 'EdDSA');
    const source = jwtBundleSet([parseJwtBundle('example.org', bundleJson([es256, ed]))]);
    await refuses(await token(ed), 'alg', source);
  });

  describe('JV-6: rejects an alg that does not match the key type', () => {
    it('JV-6/RS256-with-EC-kid', async () => {
      const rsa = await authority('rsa-signer', 'RS256');
      await refuses(await token(rsa, { header: { kid: es256.kid } }), 'alg-key-mismatch');
    });
    it('JV-6/ES384-with-P-256-kid', async () => {
      const p384 = await authority('p384-signer', 'ES384');
      await refuses(await token(p384, { header: { kid: es256.kid } }), 'alg-key-mismatch');
    });
  });

  it('JV-7: rejects a token without aud', async () => {
    await refuses(await token(es256, { aud: undefined }), 'aud');
  });

  it('JV-8: rejects a token whose aud does not contain the audience', async () => {
    await refuses(await token(es256, { aud: ['other'] }), 'aud');
  });

  it('JV-9: accepts an aud array holding the audience among others', async () => {
    const svid = await accepts(await token(es256, { aud: ['other', 'conformance'] }));
    expect(svid.audience).toEqual(['other', 'conformance']);
  });

  it('JV-10: accepts aud as a single string', async () => {
    const svid = await accepts(await token(es256, { aud: 'conformance' }));
    expect(svid.audience).toEqual(['conformance']);
  });

  it('JV-11: rejects a token without exp', async () => {
    await refuses(await token(es256, { expIn: undefined }), 'exp');
  });

  it('JV-12: rejects an expired token', async () => {
    await refuses(await token(es256, { expIn: -300 }), 'expired');
  });

  it('JV-13: rejects a token whose nbf is in the future', async () => {
    await refuses(await token(es256, { nbfIn: 300 }), 'not-yet-valid');
  });

  it('JV-14: rejects a token with a tampered signature', async () => {
    await refuses(flipSignatureBit(await token(es256)), 'signature');
  });

  it('JV-15: rejects a token with a tampered payload', async () => {
    const jws = replacePayload(await token(es256), (claims) => ({
      ...claims,
      sub: 'spiffe://example.org/admin',
    }));
    await refuses(jws, 'signature');
  });

  it('JV-16: rejects a token signed by a key that is not in the bundle', async () => {
    await refuses(await token(await authority('stranger')), 'unknown-kid');
  });

  it("JV-17: rejects a token of trust domain B signed with trust domain A's key", async () => {
    const partner = await authority('partner-key');
    const source = jwtBundleSet([
      parseJwtBundle('example.org', bundleJson([es256])),
      parseJwtBundle('partner.org', bundleJson([partner])),
    ]);
    await expect(
      accepts(await token(partner, { sub: 'spiffe://partner.org/w' }), source),
    ).resolves.toBeDefined();
    await refuses(await token(es256, { sub: 'spiffe://partner.org/w' }), 'unknown-kid', source);
  });

  it('JV-18: rejects a token whose sub trust domain has no bundle', async () => {
    await refuses(await token(es256, { sub: 'spiffe://nobundle.org/w' }), 'no-bundle');
  });

  it('JV-19: rejects a token whose sub is not a SPIFFE ID', async () => {
    await refuses(await token(es256, { sub: 'https://example.org/workload' }), 'sub');
    await refuses(await token(es256, { sub: undefined }), 'sub');
  });

  describe('JV-20: accepts typ JWT, JOSE or no typ', () => {
    it.each([['JWT'], ['JOSE'], ['absent']])('JV-20/%s', async (typ) => {
      const header = { typ: typ === 'absent' ? undefined : typ };
      await expect(accepts(await token(es256, { header }))).resolves.toBeDefined();
    });
  });

  it('JV-21: rejects any other typ', async () => {
    await refuses(await token(es256, { header: { typ: 'at+jwt' } }), 'typ');
    await refuses(await token(es256, { header: { typ: 'jwt' } }), 'typ');
  });

  it('JV-22: accepts a token without kid', async () => {
    const other = await authority('other-key');
    const source = jwtBundleSet([parseJwtBundle('example.org', bundleJson([other, es256]))]);
    const svid = await accepts(await token(es256, { header: { kid: undefined } }), source);
    expect(svid.spiffeId.toString()).toBe('spiffe://example.org/workload');
  });

  it('JV-23: rejects a token with an unknown crit header', async () => {
    const claims = {
      sub: 'spiffe://example.org/workload',
      aud: ['conformance'],
      exp: Math.floor(Date.now() / 1000) + 300,
    };
    const header = { alg: 'ES256', kid: es256.kid, typ: 'JWT', crit: ['exp-ext'], 'exp-ext': true };
    // The same hand-signed token without crit is accepted, so the refusal is about crit alone.
    const { crit: _crit, 'exp-ext': _ext, ...plain } = header;
    await expect(accepts(await signEs256Raw(es256, plain, claims))).resolves.toBeDefined();
    await refuses(await signEs256Raw(es256, header, claims), 'crit');
  });

  it('JV-24: rejects JWS JSON serialization', async () => {
    const [protectedHeader, payload, signature] = (await token(es256)).split('.');
    await refuses(JSON.stringify({ protected: protectedHeader, payload, signature }), 'malformed');
  });

  describe('JV-25: rejects a malformed compact token', () => {
    it('JV-25/part-count', async () => {
      const jws = await token(es256);
      await refuses(jws.split('.').slice(0, 2).join('.'), 'malformed');
      await refuses(`${jws}.extra`, 'malformed');
    });
    it('JV-25/base64url', async () => {
      const [h, p, s] = (await token(es256)).split('.');
      await refuses(`${h}.${p}+/=.${s}`, 'malformed');
    });
    it('JV-25/json', async () => {
      const [, p, s] = (await token(es256)).split('.');
      await refuses(`${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`, 'malformed');
    });
  });
});
