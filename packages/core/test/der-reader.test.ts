// The certificate DER reader's own rules, on hand-built DER: strict DER only, bounded (size, depth,
// element count), and every defect refused with ERR_MESHLESS_PEM_INVALID (context.rule 'der').
// Agreement with @peculiar/x509 on real certificates is test/der/differential.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CERTIFICATE_BYTES, readCertificate } from '../src/der/certificate.js';
import {
  type DerElement,
  MAX_DER_CHILDREN,
  MAX_DER_DEPTH,
  readChildren,
  readElement,
} from '../src/der/reader.js';
import { MeshlessError } from '../src/errors.js';

// A minimal DER writer for the tests.
function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const oid = (hex: string) => tlv(0x06, Buffer.from(hex, 'hex'));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const ascii = (tag: number, text: string) => tlv(tag, Buffer.from(text, 'latin1'));
const ECDSA_SHA256 = seq(oid('2a8648ce3d040302'));
const CN = oid('550403');
const SAN = oid('551d11');
const BASIC = oid('551d13');
const KEY_USAGE = oid('551d0f');

interface Parts {
  version?: Buffer;
  serial?: Buffer;
  notBefore?: Buffer;
  notAfter?: Buffer;
  subject?: Buffer;
  extensions?: Buffer[];
  trailer?: Buffer;
}

function certificate(parts: Parts = {}): Buffer {
  const name = seq(tlv(0x31, seq(CN, utf8('test'))));
  const tbs = seq(
    parts.version ?? tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    parts.serial ?? tlv(0x02, Buffer.from([0x01, 0x23])),
    ECDSA_SHA256,
    name,
    seq(parts.notBefore ?? ascii(0x17, '250101000000Z'), parts.notAfter ?? ascii(0x18, '20510101000000Z')),
    parts.subject ?? name,
    seq(seq(oid('2a8648ce3d0201')), tlv(0x03, Buffer.from([0, 4, 1, 2]))),
    ...(parts.extensions ? [tlv(0xa3, seq(...parts.extensions))] : []),
  );
  return Buffer.concat([
    seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.from([0, 1]))),
    parts.trailer ?? Buffer.alloc(0),
  ]);
}

const extension = (id: Buffer, value: Buffer, critical = false) =>
  seq(id, ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));

function refusal(der: Buffer): string {
  try {
    readCertificate(der);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshlessError);
    expect((error as MeshlessError).code).toBe('ERR_MESHLESS_PEM_INVALID');
    expect((error as MeshlessError).context.rule).toBe('der');
    return (error as Error).message;
  }
  throw new Error('the reader accepted it');
}

describe('readCertificate on well-formed DER', () => {
  it('reads every field it exposes', () => {
    const fields = readCertificate(
      certificate({
        serial: tlv(0x02, Buffer.from([0x00, 0x9f])),
        extensions: [
          extension(BASIC, seq(tlv(0x01, Buffer.from([0xff])), tlv(0x02, Buffer.from([3]))), true),
          extension(KEY_USAGE, tlv(0x03, Buffer.from([0x07, 0x80]))),
          extension(
            SAN,
            seq(
              ascii(0x86, 'spiffe://example.org/ns/a/sa/b'),
              ascii(0x82, 'a.example'),
              tlv(0x87, Buffer.from([127, 0, 0, 1])),
              tlv(0x87, Buffer.from('20010db8000000000000000000000001', 'hex')),
              ascii(0x81, 'a@example.org'),
              tlv(0xa0, oid('2b0601'), tlv(0xa0, utf8('other'))),
            ),
          ),
        ],
      }),
    );
    expect(fields).toMatchObject({
      serialNumber: '9F',
      subject: 'CN=test',
      issuer: 'CN=test',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2051-01-01T00:00:00Z'),
      signatureOid: '1.2.840.10045.4.3.2',
      signatureHash: 'SHA-256',
      isCa: true,
      pathLength: 3,
      keyUsage: 1,
      subjectAltNames: {
        uris: ['spiffe://example.org/ns/a/sa/b'],
        dnsNames: ['a.example'],
        ipAddresses: ['127.0.0.1', '2001:db8::1'],
        emails: ['a@example.org'],
      },
    });
  });

  it('reports absent extensions as undefined and empty lists, and a v1 certificate without a version', () => {
    const fields = readCertificate(certificate({ version: Buffer.alloc(0) }));
    expect(fields.isCa).toBeUndefined();
    expect(fields.keyUsage).toBeUndefined();
    expect(fields.pathLength).toBeUndefined();
    expect(fields.subjectAltNames.uris).toEqual([]);
  });

  it('reads basicConstraints without cA as CA:false', () => {
    expect(readCertificate(certificate({ extensions: [extension(BASIC, seq())] })).isCa).toBe(false);
  });
});

describe('readCertificate refuses', () => {
  const cases: [string, () => Buffer, RegExp][] = [
    [
      'trailing bytes after the certificate',
      () => certificate({ trailer: Buffer.from([0]) }),
      /bytes follow/,
    ],
    [
      'a length in long form that fits the short one',
      () => Buffer.from([0x30, 0x81, 0x05, 0, 0, 0, 0, 0]),
      /shortest form/,
    ],
    ['an indefinite length', () => Buffer.from([0x30, 0x80, 0, 0]), /indefinite/],
    ['a high tag number', () => Buffer.from([0x3f, 0x01, 0x00]), /high tag/],
    [
      'a serial with a needless leading zero',
      () => certificate({ serial: tlv(0x02, Buffer.from([0, 0x01])) }),
      /minimally/,
    ],
    ['an empty serial', () => certificate({ serial: tlv(0x02, Buffer.alloc(0)) }), /INTEGER is empty/],
    ['a UTCTime without seconds', () => certificate({ notBefore: ascii(0x17, '2501010000Z') }), /DER form/],
    [
      'a GeneralizedTime with a fraction',
      () => certificate({ notAfter: ascii(0x18, '20510101000000.5Z') }),
      /DER form/,
    ],
    ['31 February', () => certificate({ notBefore: ascii(0x17, '250231000000Z') }), /impossible date/],
    [
      'a BOOLEAN of 0x01',
      () => certificate({ extensions: [extension(BASIC, seq(tlv(0x01, Buffer.from([1]))))] }),
      /BOOLEAN/,
    ],
    [
      'a duplicate extension',
      () => certificate({ extensions: [extension(SAN, seq()), extension(SAN, seq())] }),
      /appears twice/,
    ],
    [
      'a non-ASCII URI SAN',
      () => certificate({ extensions: [extension(SAN, seq(ascii(0x86, 'spiffe://é.org/x')))] }),
      /not ASCII/,
    ],
    [
      'an iPAddress of 5 octets',
      () => certificate({ extensions: [extension(SAN, seq(tlv(0x87, Buffer.alloc(5))))] }),
      /5 octets/,
    ],
    [
      'an unknown GeneralName tag',
      () => certificate({ extensions: [extension(SAN, seq(ascii(0x89, 'x')))] }),
      /unknown tag/,
    ],
    [
      'key usage with unused bits set',
      () => certificate({ extensions: [extension(KEY_USAGE, tlv(0x03, Buffer.from([0x07, 0x81])))] }),
      /unused bits set/,
    ],
    [
      'key usage with 8 unused bits',
      () => certificate({ extensions: [extension(KEY_USAGE, tlv(0x03, Buffer.from([0x08, 0x00])))] }),
      /unused bits/,
    ],
    [
      'an OID arc with a leading 0x80',
      () => certificate({ extensions: [extension(oid('80551d11'), seq())] }),
      /minimally encoded/,
    ],
    [
      'an invalid UTF8String in the subject',
      () => certificate({ subject: seq(tlv(0x31, seq(CN, tlv(0x0c, Buffer.from([0xc3, 0x28]))))) }),
      /UTF-8/,
    ],
    ['an empty RDN', () => certificate({ subject: seq(tlv(0x31)) }), /RelativeDistinguishedName is empty/],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      expect(refusal(make())).toMatch(message);
    });
  }

  it(`a certificate over ${MAX_CERTIFICATE_BYTES} bytes, before reading it`, () => {
    expect(refusal(Buffer.alloc(MAX_CERTIFICATE_BYTES + 1, 0x30))).toMatch(/larger than/);
  });

  it(`nesting deeper than ${MAX_DER_DEPTH}: the reader's backstop, whatever walks it`, () => {
    let nested = utf8('x');
    for (let i = 0; i < MAX_DER_DEPTH + 4; i++) nested = seq(nested);
    // Walk down as a schema would, one level per call, with no recursion on the input.
    let element = readElement(nested, 0, nested.length, 0);
    let levels = 0;
    const walk = () => {
      for (;;) {
        element = readChildren(nested, element)[0] as DerElement;
        levels++;
      }
    };
    expect(walk).toThrow(/nesting deeper than 16/);
    expect(levels).toBe(MAX_DER_DEPTH);
  });

  it(`more than ${MAX_DER_CHILDREN} elements in one value`, () => {
    const many = Array.from({ length: MAX_DER_CHILDREN + 1 }, () => ascii(0x82, 'a'));
    expect(refusal(certificate({ extensions: [extension(SAN, seq(...many))] }))).toMatch(/more than 1024/);
    const enough = many.slice(1);
    expect(
      readCertificate(certificate({ extensions: [extension(SAN, seq(...enough))] })).subjectAltNames.dnsNames,
    ).toHaveLength(MAX_DER_CHILDREN);
  });
});

describe('fuzz (fast-check)', () => {
  const good = certificate({
    extensions: [
      extension(BASIC, seq(tlv(0x01, Buffer.from([0xff])))),
      extension(KEY_USAGE, tlv(0x03, Buffer.from([0x01, 0x86]))),
      extension(SAN, seq(ascii(0x86, 'spiffe://example.org/w'), tlv(0x87, Buffer.from([10, 0, 0, 1])))),
    ],
  });

  it('random bytes are read or refused with ERR_MESHLESS_PEM_INVALID, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        try {
          readCertificate(Buffer.from(bytes));
        } catch (error) {
          expect((error as MeshlessError).code).toBe('ERR_MESHLESS_PEM_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('corrupted, truncated and spliced certificates are read or refused with the code', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 6,
        }),
        fc.nat({ max: good.length }),
        fc.uint8Array({ maxLength: 16 }),
        (edits, cut, inserted) => {
          const bytes = Buffer.from(good);
          for (const [at, byte] of edits) bytes[at] = byte;
          const spliced = Buffer.concat([bytes.subarray(0, cut), inserted, bytes.subarray(cut)]);
          for (const candidate of [bytes, bytes.subarray(0, cut), spliced]) {
            try {
              const fields = readCertificate(candidate);
              expect(typeof fields.subject).toBe('string');
            } catch (error) {
              expect((error as MeshlessError).code).toBe('ERR_MESHLESS_PEM_INVALID');
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a hostile input of the largest accepted size is refused in bounded time', () => {
    // 256 KiB of nested SEQUENCE headers: the worst case for a reader that would recurse.
    const hostile = Buffer.alloc(MAX_CERTIFICATE_BYTES);
    for (let i = 0; i + 4 <= hostile.length; i += 4) hostile.set([0x30, 0x82, 0xff, 0xff], i);
    const started = performance.now();
    refusal(hostile);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
