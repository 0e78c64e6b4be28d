import { join } from 'node:path';
import { createCa, KEY_ALGORITHMS, type KeyAlgorithm } from '@meshless/pki';
import { describe, expect, test } from 'vitest';
import { openssl, tempDir, writeFiles } from './helpers.js';

const TD = 'example.org';
const WEB = 'spiffe://example.org/ns/prod/sa/web';

const SIGNATURE_TEXT: Record<KeyAlgorithm, string> = {
  'ecdsa-p256': 'ecdsa-with-SHA256',
  'rsa-2048': 'sha256WithRSAEncryption',
  'rsa-3072': 'sha256WithRSAEncryption',
  ed25519: 'ED25519',
};

describe.each(KEY_ALGORITHMS.map((a) => [a]))('openssl CLI on a %s chain', (keyAlgorithm: KeyAlgorithm) => {
  test('verifies the leaf through an intermediate, for TLS clients and servers, strictly', async () => {
    const dir = await tempDir();
    const root = await createCa({ trustDomain: TD, keyAlgorithm });
    const intermediate = await root.createIntermediate();
    const issued = await intermediate.issue({
      spiffeId: WEB,
      dnsNames: ['web.local'],
      ipAddresses: ['10.1.2.3'],
    });
    const files = await writeFiles(dir, {
      'ca.pem': issued.caPem,
      'chain.pem': intermediate.chainPem,
      'leaf.pem': issued.certPem,
      'tls.crt': issued.chainPem,
    });
    for (const purpose of ['sslserver', 'sslclient']) {
      const out = openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        purpose,
        '-CAfile',
        files['ca.pem'],
        '-untrusted',
        files['chain.pem'],
        files['leaf.pem'],
      ]);
      expect(out.trim()).toBe(`${files['leaf.pem']}: OK`);
    }
    // tls.crt holds leaf + intermediates: it is the untrusted chain a peer sends.
    expect(
      openssl(['verify', '-CAfile', files['ca.pem'], '-untrusted', files['tls.crt'], files['leaf.pem']]),
    ).toMatch(/: OK/);
    // Without the intermediate, the leaf does not verify.
    expect(() => openssl(['verify', '-CAfile', files['ca.pem'], files['leaf.pem']])).toThrow(
      /unable to get local issuer/,
    );
  });

  test('shows the X509-SVID profile in the leaf', async () => {
    const dir = await tempDir();
    const ca = await createCa({ trustDomain: TD, keyAlgorithm });
    const issued = await ca.issue({
      spiffeId: WEB,
      dnsNames: ['web.local'],
      ipAddresses: ['10.1.2.3', '::1'],
    });
    const files = await writeFiles(dir, { 'ca.pem': issued.caPem, 'leaf.pem': issued.certPem });
    expect(openssl(['verify', '-x509_strict', '-CAfile', files['ca.pem'], files['leaf.pem']]).trim()).toBe(
      `${files['leaf.pem']}: OK`,
    );

    const text = openssl(['x509', '-in', files['leaf.pem'], '-text', '-noout']);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    const usage = keyAlgorithm.startsWith('rsa')
      ? 'Digital Signature, Key Encipherment'
      : 'Digital Signature';
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
    expect(text).toMatch(
      /X509v3 Extended Key Usage:\s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(text).toMatch(
      /X509v3 Subject Alternative Name:\s*\n\s+URI:spiffe:\/\/example\.org\/ns\/prod\/sa\/web, DNS:web\.local, IP Address:10\.1\.2\.3, IP Address:0:0:0:0:0:0:0:1\n/,
    );
    expect(text).toMatch(/X509v3 Subject Key Identifier:/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:/);
    expect(text).toContain(`Signature Algorithm: ${SIGNATURE_TEXT[keyAlgorithm]}`);
    expect(text).toMatch(/Subject: CN ?= ?web\n/);

    // The leaf's AKI is the root's SKI.
    const rootText = openssl(['x509', '-in', files['ca.pem'], '-text', '-noout']);
    const ski = /X509v3 Subject Key Identifier:\s*\n\s+([0-9A-F:]+)/.exec(rootText)?.[1];
    expect(ski).toBeDefined();
    expect(text).toMatch(new RegExp(`X509v3 Authority Key Identifier:\\s*\\n\\s+(keyid:)?${ski}`));

    const serial = openssl(['x509', '-in', files['leaf.pem'], '-noout', '-serial']).trim();
    expect(serial).toMatch(/^serial=[0-9A-F]{32}$/); // 16 bytes
    expect(Number.parseInt(serial.slice('serial='.length, 'serial='.length + 1), 16)).toBeLessThan(8); // positive

    const start = openssl(['x509', '-in', files['leaf.pem'], '-noout', '-startdate'])
      .trim()
      .replace('notBefore=', '');
    const backdated = Date.now() - new Date(start).getTime();
    expect(backdated).toBeGreaterThanOrEqual(59_000);
    expect(backdated).toBeLessThan(75_000);
  });

  test('shows the CA profile in the root', async () => {
    const dir = await tempDir();
    const ca = await createCa({ trustDomain: TD, keyAlgorithm });
    const path = join(dir, 'ca.pem');
    await writeFiles(dir, { 'ca.pem': ca.certPem });
    const text = openssl(['x509', '-in', path, '-text', '-noout']);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s*\n\s+URI:spiffe:\/\/example\.org\n/);
    expect(text).toMatch(/X509v3 Subject Key Identifier:/);
    expect(text).toMatch(/Subject: O ?= ?meshless dev CA, CN ?= ?example\.org root\n/);
    expect(text).toMatch(/Issuer: O ?= ?meshless dev CA, CN ?= ?example\.org root\n/);
    expect(text).toContain(`Signature Algorithm: ${SIGNATURE_TEXT[keyAlgorithm]}`);
    expect(openssl(['verify', '-x509_strict', '-CAfile', path, path]).trim()).toBe(`${path}: OK`);
  });
});
