import { X509Certificate } from 'node:crypto';
import { inspect } from 'node:util';
import { loadMaterial, parseSpiffeId } from '@meshless/core';
import { type CertificateAuthority, createCa, KEY_ALGORITHMS, type KeyAlgorithm } from '@meshless/pki';
import { describe, expect, test } from 'vitest';
import { expectCode } from './helpers.js';

const INVALID_OPTION = { code: 'ERR_MESHLESS_INVALID_OPTION' };

const TD = 'example.org';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

describe.each(KEY_ALGORITHMS.map((a) => [a]))('%s', (keyAlgorithm: KeyAlgorithm) => {
  for (const withIntermediate of [false, true]) {
    test(`issued chain is accepted by loadMaterial ${withIntermediate ? 'through an intermediate' : 'from the root'}`, async () => {
      const root = await createCa({ trustDomain: TD, keyAlgorithm });
      const ca = withIntermediate ? await root.createIntermediate() : root;
      const issued = await ca.issue({
        spiffeId: WEB,
        dnsNames: ['web.prod.svc.cluster.local', '*.web.example.org'],
        ipAddresses: ['127.0.0.1', '::1'],
        keyAlgorithm,
      });

      const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
      expect(material.identity.spiffeId?.toString()).toBe(WEB);
      expect(material.identity.uris).toEqual([WEB]);
      expect(material.identity.dnsNames).toEqual(['web.prod.svc.cluster.local', '*.web.example.org']);
      expect(material.identity.ipAddresses).toEqual(['127.0.0.1', '::1']);
      expect(material.identity.serialNumber).toBe(issued.serialNumber);
      expect(material.intermediates).toHaveLength(withIntermediate ? 1 : 0);

      expect(issued.spiffeId).toBe(WEB);
      expect(issued.caPem).toBe(root.caPem);
      expect(issued.chainPem).toBe(withIntermediate ? issued.certPem + ca.certPem : issued.certPem);
      expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(issued.certPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
      expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(86_400_000 + 60_000);
    });
  }
});

describe('profile', () => {
  test('the leaf is an X509-SVID with a 16-byte positive serial, signed with SHA-256', async () => {
    const ca = await createCa({ trustDomain: TD });
    const issued = await ca.issue({ spiffeId: WEB });
    const leaf = new X509Certificate(issued.certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject).toBe('CN=web');
    expect(leaf.issuer).toBe(`O=meshless dev CA\nCN=${TD} root`);
    expect(leaf.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // Node reports the EKU here
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  test('serial numbers are random', async () => {
    const ca = await createCa({ trustDomain: TD });
    const serials = new Set<string>();
    for (let i = 0; i < 20; i++)
      serials.add((await ca.issue({ spiffeId: WEB, keyAlgorithm: 'ed25519' })).serialNumber);
    expect(serials.size).toBe(20);
  });

  test('the root is a CA for the trust domain', async () => {
    const ca = await createCa({ trustDomain: TD, ttl: '90d' });
    const root = new X509Certificate(ca.certPem);
    expect(root.ca).toBe(true);
    expect(root.subject).toBe(`O=meshless dev CA\nCN=${TD} root`);
    expect(root.subjectAltName).toBe(`URI:spiffe://${TD}`);
    expect(root.checkIssued(root)).toBe(true);
    expect(ca.isRoot).toBe(true);
    expect(ca.trustDomain.name).toBe(TD);
    expect(ca.keyAlgorithm).toBe('ecdsa-p256');
    expect(ca.chainPem).toBe(ca.certPem);
    expect(ca.caPem).toBe(ca.certPem);
    expect(ca.notAfter.getTime() - ca.notBefore.getTime()).toBe(90 * 86_400_000 + 60_000);
  });

  test('the default CA lifetime is one year, the default leaf lifetime 24 hours', async () => {
    const before = Date.now();
    const ca = await createCa({ trustDomain: TD, keyAlgorithm: 'ed25519' });
    const yearFromNow = before + 365 * 86_400_000;
    expect(Math.abs(ca.notAfter.getTime() - yearFromNow)).toBeLessThan(5_000);
    const issued = await ca.issue({ spiffeId: WEB });
    expect(Math.abs(issued.notAfter.getTime() - (before + 86_400_000))).toBeLessThan(5_000);
    expect(Math.abs(issued.notBefore.getTime() - (before - 60_000))).toBeLessThan(5_000);
  });

  test('ttl takes milliseconds or a duration string', async () => {
    const ca = await createCa({ trustDomain: TD, ttl: 48 * 3_600_000 });
    const a = await ca.issue({ spiffeId: WEB, ttl: '30m' });
    const b = await ca.issue({ spiffeId: WEB, ttl: 30 * 60_000 });
    expect(a.notAfter.getTime() - a.notBefore.getTime()).toBe(31 * 60_000);
    expect(b.notAfter.getTime() - b.notBefore.getTime()).toBe(31 * 60_000);
  });

  test('the default leaf lifetime is cut to what the CA has left', async () => {
    const ca = await createCa({ trustDomain: TD, ttl: '1h' });
    const issued = await ca.issue({ spiffeId: WEB });
    expect(issued.notAfter.getTime()).toBe(ca.notAfter.getTime());
    expect(issued.notBefore.getTime()).toBeGreaterThanOrEqual(ca.notBefore.getTime());
  });

  test('a SpiffeId object is accepted, and the leaf key algorithm follows the CA', async () => {
    const ca = await createCa({ trustDomain: TD, keyAlgorithm: 'ed25519' });
    const issued = await ca.issue({ spiffeId: parseSpiffeId(WEB) });
    expect(new X509Certificate(issued.certPem).publicKey.asymmetricKeyType).toBe('ed25519');
    expect(issued.spiffeId).toBe(WEB);
  });

  test('the subject CN is the last path segment, at most 64 characters', async () => {
    const ca = await createCa({ trustDomain: TD });
    const long = 'x'.repeat(100);
    const issued = await ca.issue({ spiffeId: `spiffe://${TD}/ns/prod/sa/${long}` });
    expect(new X509Certificate(issued.certPem).subject).toBe(`CN=${'x'.repeat(64)}`);
    loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
  });

  test('intermediates: chain grows, trust bundle stays the root', async () => {
    const root = await createCa({ trustDomain: TD });
    const one = await root.createIntermediate({ ttl: '30d', keyAlgorithm: 'rsa-2048' });
    const two = await one.createIntermediate({ ttl: '7d' });
    expect(one.isRoot).toBe(false);
    expect(one.caPem).toBe(root.caPem);
    expect(two.caPem).toBe(root.caPem);
    expect(one.chainPem).toBe(one.certPem);
    expect(two.chainPem).toBe(two.certPem + one.certPem);
    expect(one.keyAlgorithm).toBe('rsa-2048');
    expect(two.keyAlgorithm).toBe('rsa-2048');
    const intermediate = new X509Certificate(one.certPem);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.subjectAltName).toBe(`URI:spiffe://${TD}`);
    expect(intermediate.subject).toMatch(
      new RegExp(`^O=meshless dev CA\\nCN=${TD} intermediate [0-9a-f]{8}$`),
    );
    const issued = await two.issue({ spiffeId: WEB });
    const material = loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
    expect(material.intermediates).toHaveLength(2);
    // The default intermediate lifetime is cut to the parent's.
    const three = await two.createIntermediate();
    expect(three.notAfter.getTime()).toBe(two.notAfter.getTime());
  });

  test('the CA key never shows in logs or JSON', async () => {
    const ca = await createCa({ trustDomain: TD });
    expect(ca.keyPem).toMatch(/PRIVATE KEY/);
    expect(inspect(ca, { depth: 5, showHidden: true })).not.toMatch(/PRIVATE KEY/);
    expect(JSON.stringify(ca)).not.toMatch(/PRIVATE KEY/);
    expect(JSON.parse(JSON.stringify(ca))).toMatchObject({ trustDomain: TD, isRoot: true });
  });
});

describe('refusals', () => {
  let ca: CertificateAuthority;
  const caOnce = async () => {
    ca ??= await createCa({ trustDomain: TD, ttl: '48h' });
    return ca;
  };

  test.each([
    ['spiffe://Example.org/web', /invalid SPIFFE ID/],
    ['https://example.org/web', /scheme/],
    ['spiffe://example.org/ns//web', /empty segments/],
    ['spiffe://example.org/web/', /trailing slash/],
    ['', /cannot be empty/],
  ])('an invalid SPIFFE ID %j is ERR_MESHLESS_SPIFFE_ID_INVALID', async (spiffeId, message) => {
    await expectCode((await caOnce()).issue({ spiffeId }), 'ERR_MESHLESS_SPIFFE_ID_INVALID', message);
  });

  test('a SPIFFE ID with no path is ERR_MESHLESS_SVID_INVALID', async () => {
    const err = await expectCode(
      (await caOnce()).issue({ spiffeId: `spiffe://${TD}` }),
      'ERR_MESHLESS_SVID_INVALID',
      /has no path/,
    );
    expect(err.context).toMatchObject({ rule: 'root-path', spiffeId: `spiffe://${TD}` });
  });

  test('a SPIFFE ID of another trust domain is ERR_MESHLESS_TRUST_DOMAIN_MISMATCH', async () => {
    const err = await expectCode(
      (await caOnce()).issue({ spiffeId: 'spiffe://other.org/ns/prod/sa/web' }),
      'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH',
      /belongs to trust domain "other.org".*only for "example.org"/,
    );
    expect(err.context).toMatchObject({ expected: TD, actual: 'other.org' });
  });

  test.each(['49h', '3d', 49 * 3_600_000])(
    'a ttl of %j, longer than the CA has left, is ERR_MESHLESS_TTL_INVALID',
    async (ttl) => {
      const err = await expectCode(
        (await caOnce()).issue({ spiffeId: WEB, ttl }),
        'ERR_MESHLESS_TTL_INVALID',
        /outlives CA certificate/,
      );
      expect(err.context.input).toBe('ttl');
    },
  );

  test('an intermediate that outlives its parent is ERR_MESHLESS_TTL_INVALID', async () => {
    await expectCode((await caOnce()).createIntermediate({ ttl: '8760h' }), 'ERR_MESHLESS_TTL_INVALID');
  });

  test('an expired CA is ERR_MESHLESS_CERT_EXPIRED', async () => {
    const shortLived = await createCa({ trustDomain: TD, ttl: '2s' });
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, shortLived.notAfter.getTime() - Date.now()) + 50),
    );
    await expectCode(shortLived.issue({ spiffeId: WEB }), 'ERR_MESHLESS_CERT_EXPIRED', /expired/);
  });

  test.each([['999.1.1.1'], ['1.2.3'], ['not-an-ip'], ['fe80::1%eth0'], ['example.org'], [''], [42]])(
    'an invalid IP address %j is ERR_MESHLESS_INVALID_OPTION',
    async (ip) => {
      await expect(
        (await caOnce()).issue({ spiffeId: WEB, ipAddresses: [ip as string] }),
      ).rejects.toMatchObject(INVALID_OPTION);
    },
  );

  test.each([['bad name'], ['-web'], ['web..local'], ['a'.repeat(64)], ['web_1'], ['']])(
    'an invalid DNS name %j is ERR_MESHLESS_INVALID_OPTION',
    async (dns) => {
      await expect((await caOnce()).issue({ spiffeId: WEB, dnsNames: [dns] })).rejects.toMatchObject(
        INVALID_OPTION,
      );
    },
  );

  test('bad options are ERR_MESHLESS_INVALID_OPTION', async () => {
    const c = await caOnce();
    await expect(c.issue({ spiffeId: WEB, ttl: 'forever' })).rejects.toMatchObject(INVALID_OPTION);
    await expect(c.issue({ spiffeId: WEB, keyAlgorithm: 'dsa' as KeyAlgorithm })).rejects.toThrow(
      /keyAlgorithm must be one of/,
    );
    await expect(c.issue({ spiffeId: WEB, dnsNames: 'web' as unknown as string[] })).rejects.toMatchObject(
      INVALID_OPTION,
    );
    await expect(c.issue({} as { spiffeId: string })).rejects.toThrow(/spiffeId is required/);
    await expect(c.issue(undefined as unknown as { spiffeId: string })).rejects.toMatchObject(INVALID_OPTION);
    await expect(
      createCa({ trustDomain: TD, keyAlgorithm: 'rsa-1024' as KeyAlgorithm }),
    ).rejects.toMatchObject(INVALID_OPTION);
    await expect(createCa({ trustDomain: TD, ttl: '-1h' })).rejects.toMatchObject(INVALID_OPTION);
    await expect(createCa({ trustDomain: TD, ttl: '99999999d' })).rejects.toThrow(/year 9999/);
    await expect(c.issue({ spiffeId: WEB, dnsName: ['web'] } as never)).rejects.toThrow(
      'issue: unknown option "dnsName"; did you mean "dnsNames"?',
    );
    await expect(createCa({ trustDomain: TD, keyAlgo: 'ed25519' } as never)).rejects.toMatchObject(
      INVALID_OPTION,
    );
  });

  test('an invalid trust domain is ERR_MESHLESS_TRUST_DOMAIN_INVALID', async () => {
    await expectCode(createCa({ trustDomain: 'Example.org' }), 'ERR_MESHLESS_TRUST_DOMAIN_INVALID');
    await expectCode(createCa({ trustDomain: '' }), 'ERR_MESHLESS_TRUST_DOMAIN_INVALID');
  });
});
