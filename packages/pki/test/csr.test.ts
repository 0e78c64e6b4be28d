import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePem, loadMaterial } from '@meshless/core';
import {
  type CertificateAuthority,
  createCa,
  createCsr,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
} from '@meshless/pki';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectCode, openssl, tempDir, writeFiles } from './helpers.js';

const INVALID_OPTION = { code: 'ERR_MESHLESS_INVALID_OPTION' };

const TD = 'example.org';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

let ca: CertificateAuthority;
beforeAll(async () => {
  ca = await (await createCa({ trustDomain: TD })).createIntermediate();
});

describe('CSR round trip', () => {
  test.each(KEY_ALGORITHMS.map((a) => [a]))(
    'a %s CSR is signed into a certificate loadMaterial accepts',
    async (keyAlgorithm: KeyAlgorithm) => {
      const { csrPem, keyPem } = await createCsr({
        spiffeId: WEB,
        dnsNames: ['web.local'],
        ipAddresses: ['10.0.0.1'],
        keyAlgorithm,
      });
      expect(csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
      expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

      const signed = await ca.signCsr(csrPem, { ttl: '1h' });
      expect(signed).not.toHaveProperty('keyPem');
      expect(signed.spiffeId).toBe(WEB);
      expect(signed.notAfter.getTime() - signed.notBefore.getTime()).toBe(61 * 60_000);
      const material = loadMaterial({ cert: signed.chainPem, key: keyPem, ca: signed.caPem });
      expect(material.identity.spiffeId?.toString()).toBe(WEB);
      expect(material.identity.dnsNames).toEqual(['web.local']);
      expect(material.identity.ipAddresses).toEqual(['10.0.0.1']);
      expect(material.intermediates).toHaveLength(1);
    },
  );

  test('openssl reads and verifies the CSR', async () => {
    const dir = await tempDir();
    const { csrPem } = await createCsr({ spiffeId: WEB, dnsNames: ['web.local'] });
    const { 'web.csr': path } = await writeFiles(dir, { 'web.csr': csrPem });
    const text = openssl(['req', '-in', path, '-verify', '-noout', '-text']);
    expect(text).toMatch(/Subject: CN ?= ?web\n/);
    expect(text).toMatch(
      /Requested Extensions:[\s\S]*URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/web, DNS:web\.local/,
    );
  });

  test('the options replace the DNS and IP names the CSR asks for', async () => {
    const { csrPem, keyPem } = await createCsr({
      spiffeId: WEB,
      dnsNames: ['asked.example.org'],
      ipAddresses: ['10.0.0.1'],
    });
    const signed = await ca.signCsr(csrPem, { dnsNames: ['granted.example.org'], ipAddresses: [] });
    const material = loadMaterial({ cert: signed.chainPem, key: keyPem, ca: signed.caPem });
    expect(material.identity.dnsNames).toEqual(['granted.example.org']);
    expect(material.identity.ipAddresses).toEqual([]);
  });

  test('a CSR made by the openssl CLI is signed', async () => {
    const dir = await tempDir();
    const key = join(dir, 'web.key');
    const csr = join(dir, 'web.csr');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=ignored',
      '-addext',
      `subjectAltName=URI:${WEB},DNS:web.local`,
      '-out',
      csr,
    ]);
    const signed = await ca.signCsr(await readFile(csr));
    const material = loadMaterial({ cert: signed.chainPem, key: await readFile(key), ca: signed.caPem });
    expect(material.identity.spiffeId?.toString()).toBe(WEB);
    expect(material.identity.subject).toBe('CN=web');
  });
});

describe('CSR refusals', () => {
  test.each([
    ['garbage', 'hello, world'],
    ['an empty string', ''],
    ['a certificate', 'CERT'],
    ['a truncated CSR', 'TRUNCATED'],
    ['a private key', 'KEY'],
  ])('%s is ERR_MESHLESS_CSR_INVALID', async (_name, input) => {
    const { csrPem, keyPem } = await createCsr({ spiffeId: WEB });
    const value =
      input === 'CERT'
        ? ca.certPem
        : input === 'KEY'
          ? keyPem
          : input === 'TRUNCATED'
            ? csrPem.slice(0, 200)
            : input;
    await expectCode(ca.signCsr(value), 'ERR_MESHLESS_CSR_INVALID', /invalid certificate signing request/);
  });

  test('a CSR whose body was altered after signing is ERR_MESHLESS_CSR_INVALID', async () => {
    const { csrPem } = await createCsr({ spiffeId: WEB, dnsNames: ['aaaa.example.org'] });
    // Change a requested DNS name without re-signing: the DER stays well-formed, the signature no longer matches.
    const der = Buffer.from((decodePem(csrPem, 'csr')[0] as { der: Uint8Array }).der);
    const at = der.indexOf('aaaa.example.org');
    expect(at).toBeGreaterThan(0);
    der.write('bbbb', at, 'latin1');
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der
      .toString('base64')
      .match(/.{1,64}/g)
      ?.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    const err = await expectCode(
      ca.signCsr(tampered),
      'ERR_MESHLESS_CSR_INVALID',
      /signature does not verify/,
    );
    expect(err.context.rule).toBe('signature');
  });

  test('a CSR without a URI SAN is ERR_MESHLESS_CSR_INVALID', async () => {
    const dir = await tempDir();
    const key = join(dir, 'k.pem');
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', key]);
    const csr = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=web',
      '-addext',
      'subjectAltName=DNS:web.local',
    ]);
    await expectCode(ca.signCsr(csr), 'ERR_MESHLESS_CSR_INVALID', /0 URI SANs/);
    const two = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=web',
      '-addext',
      `subjectAltName=URI:${WEB},URI:${WEB}/2`,
    ]);
    await expectCode(ca.signCsr(two), 'ERR_MESHLESS_CSR_INVALID', /2 URI SANs/);
  });

  test('a CSR for another trust domain is ERR_MESHLESS_TRUST_DOMAIN_MISMATCH', async () => {
    const { csrPem } = await createCsr({ spiffeId: 'spiffe://other.org/ns/prod/sa/web' });
    await expectCode(ca.signCsr(csrPem), 'ERR_MESHLESS_TRUST_DOMAIN_MISMATCH');
  });

  test('a CSR with an invalid SPIFFE ID or none with a path is refused with the SPIFFE codes', async () => {
    const dir = await tempDir();
    const key = join(dir, 'k.pem');
    openssl(['genpkey', '-algorithm', 'ed25519', '-out', key]);
    const bad = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=web',
      '-addext',
      'subjectAltName=URI:spiffe://Example.org/web',
    ]);
    await expectCode(ca.signCsr(bad), 'ERR_MESHLESS_SPIFFE_ID_INVALID');
    const root = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=web',
      '-addext',
      'subjectAltName=URI:spiffe://example.org',
    ]);
    await expectCode(ca.signCsr(root), 'ERR_MESHLESS_SVID_INVALID');
  });

  test('a CSR with a weak key is ERR_MESHLESS_KEY_WEAK', async () => {
    const dir = await tempDir();
    const key = join(dir, 'k.pem');
    openssl(['genrsa', '-out', key, '1024']);
    const csr = openssl([
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=web',
      '-addext',
      `subjectAltName=URI:${WEB}`,
    ]);
    await expectCode(ca.signCsr(csr), 'ERR_MESHLESS_KEY_WEAK', /rsa-1024/);
  });

  test('a ttl longer than the CA has left is ERR_MESHLESS_TTL_INVALID', async () => {
    const { csrPem } = await createCsr({ spiffeId: WEB });
    await expectCode(ca.signCsr(csrPem, { ttl: '1000d' }), 'ERR_MESHLESS_TTL_INVALID');
  });

  test('createCsr refuses what issue refuses', async () => {
    await expectCode(createCsr({ spiffeId: 'spiffe://example.org/a//b' }), 'ERR_MESHLESS_SPIFFE_ID_INVALID');
    await expectCode(createCsr({ spiffeId: 'spiffe://example.org' }), 'ERR_MESHLESS_SVID_INVALID');
    await expect(createCsr({ spiffeId: WEB, ipAddresses: ['300.0.0.1'] })).rejects.toMatchObject(
      INVALID_OPTION,
    );
    await expect(
      createCsr({ spiffeId: WEB, keyAlgorithm: 'rsa-1024' as KeyAlgorithm }),
    ).rejects.toMatchObject(INVALID_OPTION);
    await expect(ca.signCsr(42 as unknown as string)).rejects.toMatchObject(INVALID_OPTION);
    await expect(ca.signCsr('x', { ttl: 'soon' })).rejects.toMatchObject(INVALID_OPTION);
  });
});
