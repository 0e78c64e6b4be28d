import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadMaterial } from '@meshless/core';
import { loadCa } from '@meshless/pki';
import { describe, expect, test } from 'vitest';
import { openssl, tempDir, writeFiles } from './helpers.js';

const WEB = 'spiffe://example.org/ns/prod/sa/web';

const ROOT_CONFIG = `
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_root
[dn]
O = openssl interop
CN = openssl interop root
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = URI:spiffe://example.org
`;

const LEAF_EXTENSIONS = `
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = URI:${WEB}, DNS:web.local, IP:10.0.0.7
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** A root made with `openssl req -x509`, in `dir`. */
async function opensslRoot(dir: string, keyArgs: string[]): Promise<{ cert: string; key: string }> {
  const { 'root.cnf': config } = await writeFiles(dir, { 'root.cnf': ROOT_CONFIG });
  const cert = join(dir, 'root.crt');
  const key = join(dir, 'root.key');
  openssl([
    'req',
    '-x509',
    '-config',
    config,
    ...keyArgs,
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-sha256',
  ]);
  return { cert, key };
}

/** A leaf key written by the openssl CLI in the given format, and a certificate for it signed by `root`. */
async function opensslLeaf(
  dir: string,
  root: { cert: string; key: string },
  keyKind: 'sec1-ec' | 'pkcs1-rsa' | 'pkcs8-ed25519',
) {
  const key = join(dir, 'leaf.key');
  if (keyKind === 'sec1-ec') openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', key]);
  if (keyKind === 'pkcs1-rsa') openssl(['genrsa', '-traditional', '-out', key, '2048']);
  if (keyKind === 'pkcs8-ed25519') openssl(['genpkey', '-algorithm', 'ed25519', '-out', key]);
  const csr = join(dir, 'leaf.csr');
  openssl(['req', '-new', '-key', key, '-subj', '/CN=web', '-out', csr]);
  const { 'leaf.ext': ext } = await writeFiles(dir, { 'leaf.ext': LEAF_EXTENSIONS });
  const cert = join(dir, 'leaf.crt');
  const serial = `0x${randomBytes(16).toString('hex').replace(/^./, '4')}`;
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    root.cert,
    '-CAkey',
    root.key,
    '-set_serial',
    serial,
    '-days',
    '1',
    '-sha256',
    '-extfile',
    ext,
    '-extensions',
    'v3_leaf',
    '-out',
    cert,
  ]);
  return { cert, key };
}

describe('certificates made by the openssl CLI', () => {
  test.each([
    ['an EC P-256 root', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'sec1-ec'],
    ['an RSA 2048 root', ['-newkey', 'rsa:2048'], 'pkcs1-rsa'],
    ['an RSA 3072 root', ['-newkey', 'rsa:3072'], 'pkcs8-ed25519'],
  ] as const)(
    'a leaf with a URI SAN signed by %s is accepted by loadMaterial',
    async (_name, keyArgs, leafKey) => {
      const dir = await tempDir();
      const root = await opensslRoot(dir, [...keyArgs]);
      const leaf = await opensslLeaf(dir, root, leafKey);
      const material = loadMaterial({
        cert: await readFile(leaf.cert),
        key: await readFile(leaf.key),
        ca: await readFile(root.cert),
      });
      expect(material.identity.spiffeId?.toString()).toBe(WEB);
      expect(material.identity.dnsNames).toEqual(['web.local']);
      expect(material.identity.ipAddresses).toEqual(['10.0.0.7']);
      expect(material.identity.issuer).toBe('O=openssl interop, CN=openssl interop root');
      expect(material.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    },
  );

  test('a CA directory laid out by hand from openssl files is loaded by loadCa, and what it issues verifies', async () => {
    const dir = await tempDir();
    const root = await opensslRoot(dir, ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']);
    const caDir = join(dir, 'ca');
    const rootPem = await readFile(root.cert, 'utf8');
    await mkdir(caDir);
    await writeFiles(caDir, {
      'ca.crt': rootPem,
      'bundle.crt': rootPem,
      'ca.key': await readFile(root.key, 'utf8'),
    });

    const ca = await loadCa(caDir);
    expect(ca.trustDomain.name).toBe('example.org'); // from the root's URI SAN
    expect(ca.keyAlgorithm).toBe('ecdsa-p384');
    expect(ca.isRoot).toBe(true);
    const issued = await ca.issue({ spiffeId: WEB });
    expect(issued.caPem).toBe(rootPem);
    loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
    const { 'leaf.pem': leaf } = await writeFiles(dir, { 'leaf.pem': issued.certPem });
    expect(
      openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', root.cert, leaf]).trim(),
    ).toBe(`${leaf}: OK`);
  });
});
