// Differential tests of core's DER certificate reader (the request path's) against @peculiar/x509:
// for every kind of certificate the suites make (@meshless/pki, the test factory, the openssl CLI,
// the bad-input catalogue, fast-check), both readers must agree on every field meshless uses; and
// DER that is malformed must be refused by both, by core with ERR_MESHLESS_PEM_INVALID.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, KEY_ALGORITHMS } from '@meshless/pki';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD_INPUTS, type Fixtures, GOOD_INPUTS, makeFixtures } from '../faults/support/bad-inputs.js';
import { expectSuccess, requireTool, run, tempDir } from '../interop/support/tools.js';
import { certificateDers, outcomeOf, peculiarView, readerView } from '../support/certificate-views.js';
import { keyUsage, makeIntermediate, makeKey, makeLeaf, makeRoot } from '../support/certs.js';
import { x509 } from '../support/x509.js';

function expectSameFields(der: Uint8Array): void {
  expect(readerView(der)).toEqual(peculiarView(der));
}

describe('certificates made by @meshless/pki', () => {
  for (const keyAlgorithm of KEY_ALGORITHMS) {
    it(`agree on a ${keyAlgorithm} root, intermediate and leaf`, async () => {
      const root = await createCa({ trustDomain: 'example.org', keyAlgorithm });
      const intermediate = await root.createIntermediate({ keyAlgorithm });
      const leaf = await intermediate.issue({
        spiffeId: 'spiffe://example.org/ns/prod/sa/web',
        dnsNames: ['web.prod.svc', 'localhost'],
        ipAddresses: ['127.0.0.1', '::1', '2001:db8::8:800:200c:417a'],
      });
      const ders = [...certificateDers(leaf.chainPem), ...certificateDers(leaf.caPem)];
      expect(ders.length).toBeGreaterThanOrEqual(3);
      for (const der of ders) expectSameFields(der);
      expect(readerView(ders[0] as Buffer).uris).toEqual(['spiffe://example.org/ns/prod/sa/web']);
    });
  }
});

describe('certificates made by the test factory', () => {
  const { digitalSignature, keyEncipherment, keyAgreement, decipherOnly } = keyUsage;
  const cases: [string, Parameters<typeof makeLeaf>[1]][] = [
    ['an RSA-2048 leaf', { key: 'rsa-2048', keyUsage: digitalSignature | keyEncipherment }],
    ['an Ed25519 leaf', { key: 'ed25519' }],
    ['a P-384 leaf', { key: 'ec-p384' }],
    ['a leaf without key usage or basicConstraints', { keyUsage: null, isCa: null }],
    ['a leaf with the ninth key usage bit', { keyUsage: digitalSignature | keyAgreement | decipherOnly }],
    ['a leaf that is a CA', { isCa: true }],
    ['a leaf with several URIs', { uris: ['spiffe://example.org/a', 'https://example.org/b', 'urn:x:y'] }],
    [
      'a leaf with IPv6 SANs',
      { ipAddresses: ['::', '::1', 'fe80::1:0:0:1', '1:0:0:2:0:0:0:3', '2001:db8:0:0:1:0:0:1'] },
    ],
    [
      'a leaf with RFC 4514 specials in its subject',
      { subject: 'CN=a\\, b+OU=c \\"d\\"\\;e <x>, O=\\#hash, L=\\ lead' },
    ],
    ['a leaf with a UTF-8 subject', { subject: 'CN=Grüße 東京, O=Ünïcödé' }],
    [
      'a leaf with a subject in OIDs',
      { subject: '2.5.4.3=web, 0.9.2342.19200300.100.1.1=uid, E=a@example.org, DC=org' },
    ],
    ['a leaf valid past 2050 (GeneralizedTime)', { notAfter: new Date('2051-01-01T00:00:00Z') }],
    ['a leaf valid from before 1970', { notBefore: new Date('1960-05-05T05:05:05Z') }],
    ['a leaf with a serial that has the high bit set', { serialNumber: '9f0011' }],
    ['a leaf with a one-byte serial', { serialNumber: '07' }],
    ['a SHA-1 signed leaf', { hash: 'SHA-1' }],
    ['a SHA-384 signed leaf', { hash: 'SHA-384' }],
  ];
  let root: Awaited<ReturnType<typeof makeRoot>>;
  beforeAll(async () => {
    root = await makeRoot();
  });
  for (const [name, spec] of cases) {
    it(`agree on ${name}`, async () => {
      const leaf = await makeLeaf(root, spec);
      expectSameFields(new Uint8Array(leaf.cert.rawData));
    });
  }
  it('agree on an RSA root signing with SHA-1, and on an intermediate below it', async () => {
    const rsaRoot = await makeRoot({ key: 'rsa-2048', hash: 'SHA-1' });
    const intermediate = await makeIntermediate(rsaRoot, { key: 'ed25519' });
    for (const der of [...certificateDers(rsaRoot.certPem), ...certificateDers(intermediate.certPem)])
      expectSameFields(der);
  });
});

describe('certificates made by the openssl CLI', () => {
  const openssl = requireTool('openssl');
  // Each case: the key to make, then extra `openssl req -x509` arguments.
  const cases: [string, string[], string[]][] = [
    [
      'an RSA-PSS signed certificate with a pathLen and every SAN kind',
      ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      [
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        'rsa_pss_saltlen:32',
        '-sha384',
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:2',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature,nonRepudiation',
        '-addext',
        'subjectAltName=URI:spiffe://example.org/ns/a/sa/b,DNS:a.example,IP:10.1.2.3,IP:fd00::5,email:a@example.org,RID:1.2.3.4,dirName:dir_sect',
      ],
    ],
    [
      'an EC leaf with a multi-valued RDN and UTF-8 strings',
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      [
        '-utf8',
        '-multivalue-rdn',
        '-subj',
        '/CN=wörk+OU=unit/O=Org, Inc./C=DE',
        '-addext',
        'basicConstraints=CA:FALSE',
        '-addext',
        'keyUsage=digitalSignature,keyAgreement,encipherOnly',
        '-addext',
        'subjectAltName=URI:spiffe://example.org/ns/prod/sa/web',
      ],
    ],
    [
      'an Ed25519 certificate valid until 2100 (GeneralizedTime)',
      ['-algorithm', 'ED25519'],
      ['-days', '27000', '-subj', '/CN=ed/serialNumber=42', '-addext', 'subjectAltName=DNS:*.example.org'],
    ],
  ];
  for (const [name, keyArgs, reqArgs] of cases) {
    it(`agree on ${name}`, async () => {
      const { dir, remove } = await tempDir('meshless-der-');
      try {
        const config = join(dir, 'openssl.cnf');
        const { writeFile } = await import('node:fs/promises');
        await writeFile(
          config,
          '[req]\ndistinguished_name=dn\n[dn]\n[dir_sect]\nCN=directory name\nO=Example\n',
        );
        expectSuccess(await run(openssl, ['genpkey', ...keyArgs, '-out', join(dir, 'k.pem')]), 'genpkey');
        expectSuccess(
          await run(openssl, [
            'req',
            '-x509',
            '-new',
            '-config',
            config,
            '-key',
            join(dir, 'k.pem'),
            '-out',
            join(dir, 'c.pem'),
            ...(reqArgs.includes('-subj') ? [] : ['-subj', '/CN=openssl test']),
            ...reqArgs,
          ]),
          'req -x509',
        );
        const [der] = certificateDers(await readFile(join(dir, 'c.pem')));
        expectSameFields(der as Buffer);
      } finally {
        await remove();
      }
    });
  }
});

describe('the bad-input catalogue', () => {
  let fixtures: Fixtures;
  beforeAll(async () => {
    fixtures = await makeFixtures();
  });
  it('agree on every certificate in every bad and tricky-but-valid file set, or both refuse it', async () => {
    let compared = 0;
    for (const input of [...BAD_INPUTS, ...GOOD_INPUTS]) {
      const files = await input.make(fixtures);
      for (const pem of [files.cert, files.ca]) {
        if (Buffer.byteLength(pem) > 4 * 1024 * 1024) continue; // refused for size before any parsing
        for (const der of certificateDers(pem)) {
          const ours = outcomeOf(readerView, der);
          const theirs = outcomeOf(peculiarView, der);
          if ('refused' in theirs) expect(ours, input.name).toEqual({ refused: 'ERR_MESHLESS_PEM_INVALID' });
          else expect(ours, input.name).toEqual(theirs);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(60);
  });
});

describe('malformed DER', () => {
  let good: Buffer;
  beforeAll(async () => {
    good = Buffer.from((await makeLeaf(await makeRoot(), { dnsNames: ['a.example'] })).cert.rawData);
  });
  const mutations: [string, (der: Buffer) => Buffer][] = [
    ['empty input', () => Buffer.alloc(0)],
    ['one byte', () => Buffer.from([0x30])],
    ['the outer length one too long', (der) => withByte(der, 3, (der[3] as number) + 1)],
    ['the outer tag a SET', (der) => withByte(der, 0, 0x31)],
    ['the tbsCertificate tag an OCTET STRING', (der) => withByte(der, 4, 0x04)],
    ['a length of 5 octets', () => Buffer.from([0x30, 0x85, 0, 0, 0, 0x01, 0x00])],
    ['nothing but a header claiming 1 GB', () => Buffer.from([0x30, 0x84, 0x40, 0, 0, 0])],
    ['a serialNumber that is not an INTEGER', (der) => retagSerial(der)],
  ];
  for (const [name, mutate] of mutations) {
    it(`both refuse ${name}`, () => {
      const bad = mutate(good);
      expect(outcomeOf(readerView, bad)).toEqual({ refused: 'ERR_MESHLESS_PEM_INVALID' });
      expect('refused' in outcomeOf(peculiarView, bad)).toBe(true);
    });
  }
  it('the reader refuses BER that @peculiar/x509 tolerates: an indefinite length, a long-form short length', () => {
    const indefinite = Buffer.concat([Buffer.from([0x30, 0x80]), good.subarray(4), Buffer.from([0, 0])]);
    const inner = good.subarray(4);
    const padded = Buffer.concat([Buffer.from([0x30, 0x84]), u32(inner.length), inner]);
    for (const bad of [indefinite, padded])
      expect(outcomeOf(readerView, bad)).toEqual({ refused: 'ERR_MESHLESS_PEM_INVALID' });
    expect(outcomeOf(readerView, good)).toHaveProperty('ok');
  });
  it('both refuse every truncation of a certificate', () => {
    for (let length = 0; length < good.length; length++) {
      const bad = good.subarray(0, length);
      expect(outcomeOf(readerView, bad), `truncated to ${length}`).toEqual({
        refused: 'ERR_MESHLESS_PEM_INVALID',
      });
      expect('refused' in outcomeOf(peculiarView, bad), `truncated to ${length}`).toBe(true);
    }
  });
});

describe('fast-check', () => {
  const { digitalSignature } = keyUsage;
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
  const dns = fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
  const ipv4 = fc.ipV4();
  const ipv6 = fc
    .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
    .map((groups) => groups.map((g) => g.toString(16)).join(':'));
  const attribute = fc.constantFrom(
    'CN',
    'O',
    'OU',
    'L',
    'ST',
    'C',
    'E',
    'DC',
    'SN',
    'T',
    'G',
    'I',
    '2.5.4.5',
  );
  const value = fc.string({
    minLength: 1,
    maxLength: 12,
    unit: fc.constantFrom(...'abcXYZ 09,+"\\<>;#=é東-_.'.split('')),
  });
  const subject = fc.array(fc.tuple(attribute, value), { minLength: 1, maxLength: 4 }).map((rdns) =>
    rdns.map(([type, text]) => ({
      [type]: [{ [isPrintable(text) ? 'printableString' : 'utf8String']: text }],
    })),
  );
  const spec = fc.record({
    subject,
    uris: fc.array(fc.webUrl({ withQueryParameters: true }), { maxLength: 3 }),
    dnsNames: fc.array(dns, { maxLength: 3 }),
    ipAddresses: fc.array(fc.oneof(ipv4, ipv6), { maxLength: 3 }),
    isCa: fc.constantFrom(true, false, null),
    pathLength: fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }),
    keyUsage: fc.option(fc.integer({ min: 1, max: 511 }), { nil: null }),
    serial: fc.uint8Array({ minLength: 1, maxLength: 20 }),
    notBefore: fc.date({
      min: new Date('1950-01-01T00:00:00Z'),
      max: new Date('2200-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
  });

  it('agree on generated certificates', async () => {
    const key = await makeKey('ec-p256');
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        const extensions: x509.Extension[] = [];
        if (s.isCa !== null)
          extensions.push(new x509.BasicConstraintsExtension(s.isCa, s.isCa ? s.pathLength : undefined));
        if (s.keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(s.keyUsage | digitalSignature));
        const names = [
          ...s.uris.map((v) => ({ type: 'url' as const, value: v })),
          ...s.dnsNames.map((v) => ({ type: 'dns' as const, value: v })),
          ...s.ipAddresses.map((v) => ({ type: 'ip' as const, value: v })),
        ];
        if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
        const notBefore = new Date(Math.floor(s.notBefore.getTime() / 1000) * 1000);
        const cert = await x509.X509CertificateGenerator.create({
          serialNumber: `01${Buffer.from(s.serial).toString('hex')}`,
          subject: s.subject as never,
          issuer: s.subject as never,
          notBefore,
          notAfter: new Date(notBefore.getTime() + 86_400_000),
          publicKey: key.keys.publicKey,
          signingKey: key.keys.privateKey,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
          extensions,
        });
        expectSameFields(new Uint8Array(cert.rawData));
      }),
      { numRuns: 60 },
    );
  });

  it('agree, or the reader refuses with ERR_MESHLESS_PEM_INVALID, on randomly corrupted certificates', async () => {
    const leaf = await makeLeaf(await makeRoot(), { dnsNames: ['a.example'], ipAddresses: ['::1'] });
    const good = Buffer.from(leaf.cert.rawData);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const bad = Buffer.from(good);
          for (const [at, byte] of edits) bad[at] = byte;
          const ours = outcomeOf(readerView, bad);
          const theirs = outcomeOf(peculiarView, bad);
          if ('refused' in ours) expect(ours).toEqual({ refused: 'ERR_MESHLESS_PEM_INVALID' });
          else if ('ok' in theirs) expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 400 },
    );
  });
});

function isPrintable(text: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

function withByte(der: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(der);
  copy[at] = value & 0xff;
  return copy;
}

// The first INTEGER inside the tbsCertificate after the version is the serial: make it a BOOLEAN.
function retagSerial(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  const versionAt = copy.indexOf(Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]));
  copy[versionAt + 5] = 0x01;
  return copy;
}
