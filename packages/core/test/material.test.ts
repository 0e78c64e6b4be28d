import { createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CertSpec,
  keyUsage,
  makeIntermediate,
  makeLeaf,
  makeRoot,
  materialOf,
  type TestCa,
} from '../../../test/support/certs.js';
import { loadMaterial, type MaterialInput, MeshlessError, type MeshlessErrorCode } from '../src/index.js';

const HOUR = 3_600_000;
let root: TestCa;
let otherRoot: TestCa;
let intermediate: TestCa;
let good: Awaited<ReturnType<typeof makeLeaf>>;

beforeAll(async () => {
  root = await makeRoot();
  otherRoot = await makeRoot({ trustDomain: 'other.org' });
  intermediate = await makeIntermediate(root);
  good = await makeLeaf(root, { dnsNames: ['web.local'], ipAddresses: ['127.0.0.1'] });
});

function codeOf(fn: () => unknown): MeshlessErrorCode | string {
  try {
    fn();
  } catch (err) {
    if (err instanceof MeshlessError) return err.code;
    return `not a MeshlessError: ${String(err)}`;
  }
  return 'did not throw';
}

async function leafWith(spec: CertSpec) {
  return materialOf(await makeLeaf(root, spec));
}

describe('loadMaterial accepts', () => {
  it('a SPIFFE leaf with its key and bundle', () => {
    const material = loadMaterial(materialOf(good));
    expect(String(material.identity.spiffeId)).toBe('spiffe://example.org/ns/default/sa/workload');
    expect(material.identity.dnsNames).toEqual(['web.local']);
    expect(material.identity.ipAddresses).toEqual(['127.0.0.1']);
    expect(material.notAfter.getTime()).toBe(good.cert.notAfter.getTime());
    expect(material.leaf.fingerprint256).toBe(material.identity.fingerprint256);
    expect(material.keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(Object.isFrozen(material)).toBe(true);
  });

  it('Buffers and CRLF line endings, with the same content hash', () => {
    const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));
    const a = loadMaterial(materialOf(good));
    const b = loadMaterial({ cert: crlf(good.chainPem), key: crlf(good.keyPem), ca: crlf(good.caPem) });
    expect(b.contentHash).toBe(a.contentHash);
  });

  it.each([
    ['PKCS#1', 'rsa-2048', { type: 'pkcs1', format: 'pem' }],
    ['PKCS#8', 'rsa-2048', { type: 'pkcs8', format: 'pem' }],
    ['SEC1', 'ec-p256', { type: 'sec1', format: 'pem' }],
    ['PKCS#8 EC', 'ec-p384', { type: 'pkcs8', format: 'pem' }],
    ['PKCS#8 Ed25519', 'ed25519', { type: 'pkcs8', format: 'pem' }],
  ] as const)('a %s key (%s)', async (_name, kind, exportAs) => {
    const leaf = await makeLeaf(root, { key: kind });
    const key = createPrivateKey(leaf.keyPem).export(exportAs as never) as string;
    const material = loadMaterial({ ...materialOf(leaf), key });
    expect(material.identity.spiffeId?.toString()).toBe('spiffe://example.org/ns/default/sa/workload');
  });

  it('an encrypted PKCS#8 key with its passphrase, and a legacy encrypted PKCS#1 key', () => {
    const encrypted = createPrivateKey(good.keyPem).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 's3cret',
    }) as string;
    expect(encrypted).toContain('ENCRYPTED PRIVATE KEY');
    expect(loadMaterial({ ...materialOf(good), key: encrypted, passphrase: 's3cret' }).keyPem).toContain(
      'BEGIN PRIVATE KEY',
    );
    const legacy = createPrivateKey(good.keyPem).export({
      type: 'sec1',
      format: 'pem',
      cipher: 'aes-128-cbc',
      passphrase: 's3cret',
    }) as string;
    expect(legacy).toContain('Proc-Type: 4,ENCRYPTED');
    expect(loadMaterial({ ...materialOf(good), key: legacy, passphrase: 's3cret' }).leaf).toBeDefined();
  });

  it('a chain through an intermediate', async () => {
    const leaf = await makeLeaf(intermediate);
    const material = loadMaterial(materialOf(leaf));
    expect(material.intermediates).toHaveLength(1);
    expect(material.roots).toHaveLength(1);
  });

  it('a bundle with two roots, the issuing one second', async () => {
    const material = loadMaterial({ ...materialOf(good), ca: otherRoot.rootPem + root.rootPem });
    expect(material.roots).toHaveLength(2);
  });

  it('a certificate without any URI SAN (an existing DNS PKI)', async () => {
    const material = loadMaterial(await leafWith({ uris: [], dnsNames: ['api.internal'] }));
    expect(material.identity.spiffeId).toBeUndefined();
    expect(material.identity.dnsNames).toEqual(['api.internal']);
  });

  it('a notBefore within the clock skew', async () => {
    const soon = await leafWith({ notBefore: new Date(Date.now() + 30_000) });
    expect(loadMaterial(soon).leaf).toBeDefined();
  });

  it('comments between PEM blocks', () => {
    expect(
      loadMaterial({ ...materialOf(good), cert: `subject=CN=workload\n${good.chainPem}` }).leaf,
    ).toBeDefined();
  });
});

describe('loadMaterial rejects', () => {
  const cases: [
    name: string,
    make: () => Promise<MaterialInput> | MaterialInput,
    code: MeshlessErrorCode,
    input?: string,
  ][] = [
    ['an empty cert', () => ({ ...materialOf(good), cert: '' }), 'ERR_MESHLESS_PEM_INVALID', 'cert'],
    [
      'a garbage key',
      () => ({ ...materialOf(good), key: 'not a key at all' }),
      'ERR_MESHLESS_PEM_INVALID',
      'key',
    ],
    [
      'binary DER as cert',
      () => ({ ...materialOf(good), cert: Buffer.from(good.cert.rawData) }),
      'ERR_MESHLESS_PEM_INVALID',
      'cert',
    ],
    [
      'a truncated cert',
      () => ({ ...materialOf(good), cert: good.certPem.slice(0, good.certPem.length / 2) }),
      'ERR_MESHLESS_PEM_INVALID',
      'cert',
    ],
    [
      'a key labelled as cert',
      () => ({ ...materialOf(good), cert: good.keyPem }),
      'ERR_MESHLESS_PEM_INVALID',
      'cert',
    ],
    [
      'a cert given as key',
      () => ({ ...materialOf(good), key: good.certPem }),
      'ERR_MESHLESS_PEM_INVALID',
      'key',
    ],
    [
      'two keys in the key file',
      () => ({ ...materialOf(good), key: good.keyPem + good.keyPem }),
      'ERR_MESHLESS_PEM_INVALID',
      'key',
    ],
    [
      'corrupt base64 in a cert block',
      () => ({
        ...materialOf(good),
        cert: good.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA'),
      }),
      'ERR_MESHLESS_PEM_INVALID',
      'cert',
    ],
    ['an empty bundle', () => ({ ...materialOf(good), ca: '' }), 'ERR_MESHLESS_PEM_INVALID', 'ca'],
    [
      'a 5 MB input',
      () => ({ ...materialOf(good), ca: 'x'.repeat(5 * 1024 * 1024) }),
      'ERR_MESHLESS_INPUT_TOO_LARGE',
      'ca',
    ],
    [
      'a key of another certificate',
      async () => ({ ...materialOf(good), key: (await makeLeaf(root)).keyPem }),
      'ERR_MESHLESS_KEY_MISMATCH',
      'key',
    ],
    [
      'an encrypted key without passphrase',
      () => ({ ...materialOf(good), key: encrypt(good.keyPem) }),
      'ERR_MESHLESS_KEY_ENCRYPTED',
      'key',
    ],
    [
      'an encrypted key with a wrong passphrase',
      () => ({ ...materialOf(good), key: encrypt(good.keyPem), passphrase: 'wrong' }),
      'ERR_MESHLESS_KEY_DECRYPT_FAILED',
      'key',
    ],
    [
      'an expired leaf',
      () => leafWith({ notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
      'ERR_MESHLESS_CERT_EXPIRED',
      'cert',
    ],
    [
      'a not yet valid leaf',
      () => leafWith({ notBefore: new Date(Date.now() + HOUR) }),
      'ERR_MESHLESS_CERT_NOT_YET_VALID',
      'cert',
    ],
    [
      'a leaf from a foreign CA',
      async () => ({ ...materialOf(await makeLeaf(otherRoot)), ca: root.rootPem }),
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      'cert',
    ],
    [
      'a missing intermediate',
      async () => {
        const leaf = await makeLeaf(intermediate);
        return { ...materialOf(leaf), cert: leaf.certPem };
      },
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      'cert',
    ],
    [
      'an intermediate that is not a CA',
      async () => {
        const fake = await makeIntermediate(root, { isCa: false, keyUsage: keyUsage.digitalSignature });
        return materialOf(await makeLeaf(fake));
      },
      'ERR_MESHLESS_CHAIN_UNTRUSTED',
      'cert',
    ],
    [
      'an expired intermediate',
      async () => {
        const old = await makeIntermediate(root, {
          notBefore: new Date(Date.now() - 3 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        });
        return materialOf(await makeLeaf(old));
      },
      'ERR_MESHLESS_CERT_EXPIRED',
      'cert',
    ],
    [
      'an expired root',
      async () => {
        const oldRoot = await makeRoot({
          notBefore: new Date(Date.now() - 3 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        });
        return materialOf(await makeLeaf(oldRoot));
      },
      'ERR_MESHLESS_CERT_EXPIRED',
      'ca',
    ],
    [
      'a bundle holding a leaf',
      () => ({ ...materialOf(good), ca: good.certPem }),
      'ERR_MESHLESS_BUNDLE_INVALID',
      'ca',
    ],
    ['a leaf that is a CA', () => leafWith({ isCa: true }), 'ERR_MESHLESS_SVID_INVALID', 'cert'],
    [
      'a non-SPIFFE leaf that is a CA',
      () => leafWith({ isCa: true, uris: [], dnsNames: ['x'] }),
      'ERR_MESHLESS_LEAF_INVALID',
      'cert',
    ],
    [
      'two URI SANs',
      () => leafWith({ uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'a SPIFFE ID without a path',
      () => leafWith({ uris: ['spiffe://example.org'] }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'an invalid SPIFFE ID',
      () => leafWith({ uris: ['spiffe://Example.org/x'] }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'a leaf with keyCertSign',
      () => leafWith({ keyUsage: keyUsage.digitalSignature | keyUsage.keyCertSign }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'a leaf with cRLSign',
      () => leafWith({ keyUsage: keyUsage.digitalSignature | keyUsage.cRLSign }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'a leaf without digitalSignature',
      () => leafWith({ keyUsage: keyUsage.keyEncipherment }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    [
      'a SPIFFE leaf without key usage',
      () => leafWith({ keyUsage: null }),
      'ERR_MESHLESS_SVID_INVALID',
      'cert',
    ],
    ['an RSA-1024 key', () => leafWith({ key: 'rsa-1024' }), 'ERR_MESHLESS_KEY_WEAK', 'key'],
    ['a SHA-1 signed leaf', () => leafWith({ hash: 'SHA-1' }), 'ERR_MESHLESS_SIGNATURE_WEAK', 'cert'],
    [
      'a SHA-1 signed intermediate',
      async () => {
        const weak = await makeIntermediate(root, { hash: 'SHA-1' });
        return materialOf(await makeLeaf(weak));
      },
      'ERR_MESHLESS_SIGNATURE_WEAK',
      'cert',
    ],
  ];

  it.each(cases)('%s', async (_name, make, code, input) => {
    const material = await make();
    let error: MeshlessError | undefined;
    try {
      loadMaterial(material);
    } catch (err) {
      error = err as MeshlessError;
    }
    expect(error, 'loadMaterial should have thrown').toBeInstanceOf(MeshlessError);
    expect(error?.code).toBe(code);
    if (input) expect(error?.context.input).toBe(input);
    expect(error?.message.length).toBeGreaterThan(20);
  });

  it('names the file in the message when it is given', () => {
    const error = (() => {
      try {
        loadMaterial({ ...materialOf(good), key: 'junk', files: { key: '/etc/tls/tls.key' } });
      } catch (err) {
        return err as MeshlessError;
      }
    })();
    expect(error?.message).toContain('/etc/tls/tls.key');
    expect(error?.context.file).toBe('/etc/tls/tls.key');
  });

  it('rejects 10 MB of garbage in a moment', () => {
    const garbage = Buffer.alloc(10 * 1024 * 1024, 'A');
    const started = performance.now();
    expect(codeOf(() => loadMaterial({ cert: garbage, key: garbage, ca: garbage }))).toBe(
      'ERR_MESHLESS_INPUT_TOO_LARGE',
    );
    const random = `-----BEGIN CERTIFICATE-----\n${'QUJD\n'.repeat(700_000)}`;
    expect(codeOf(() => loadMaterial({ ...materialOf(good), cert: random }))).toBe(
      'ERR_MESHLESS_PEM_INVALID',
    );
    const noise = Buffer.alloc(3 * 1024 * 1024, '-----BEGIN X');
    expect(codeOf(() => loadMaterial({ ...materialOf(good), cert: noise }))).toBe('ERR_MESHLESS_PEM_INVALID');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('throws ERR_MESHLESS_INVALID_OPTION for inputs of the wrong type and unknown keys', () => {
    expect(() => loadMaterial({ cert: 42 as never, key: 'x', ca: 'y' })).toThrow(
      'loadMaterial: cert must be a PEM string or Buffer; got the number 42',
    );
    expect(() => loadMaterial({ ...materialOf(good), passphase: 'x' } as never)).toThrow(
      'loadMaterial: unknown option "passphase"; did you mean "passphrase"?',
    );
  });
});

function encrypt(keyPem: string): string {
  return createPrivateKey(keyPem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: 'right',
  }) as string;
}
