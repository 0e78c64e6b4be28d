// meshless inspect: a certificate, a chain, a bundle, stdin, --json, and X509-SVID conformance
// with the reason for each failure, on certificates made with the defect they are named after.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyUsage, makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { ensureBuilt, expectErrorLine, json, meshless, tempDir, write } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const DAY = 86_400_000;
let root: TestCa;
let intermediate: TestCa;

interface View {
  role: string;
  subject: string;
  spiffeId: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  serialNumber: string;
  fingerprint256: string;
  notAfter: string;
  validity: string;
  valid: boolean;
  key: { type: string; bits?: number; text: string };
  signatureAlgorithm: string;
  isCa: boolean | null;
  keyUsage: string[] | null;
  extendedKeyUsage: string[] | null;
  svid: { profile: string; conforms: boolean; failures: { rule: string; reason: string }[] };
}
interface Document {
  ok: boolean;
  source: string;
  summary: { kind: string; count: number; ordered: boolean; breaks: number[] };
  certificates: View[];
}

beforeAll(async () => {
  await ensureBuilt();
  root = await makeRoot();
  intermediate = await makeIntermediate(root);
  const leaf = await makeLeaf(intermediate, { dnsNames: ['web.local'], ipAddresses: ['127.0.0.1'] });
  write(join(cwd, 'chain.pem'), leaf.chainPem);
  write(join(cwd, 'leaf.pem'), leaf.certPem);
  write(join(cwd, 'reversed.pem'), intermediate.certPem + leaf.certPem);
  write(join(cwd, 'bundle.pem'), root.certPem + (await makeRoot({ trustDomain: 'other.org' })).certPem);
  write(join(cwd, 'key.pem'), leaf.keyPem);
  write(join(cwd, 'garbage.pem'), 'hello\n');
  const defects: Record<string, Parameters<typeof makeLeaf>[1]> = {
    'two-uris': { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] },
    'no-key-usage': { keyUsage: null },
    'leaf-is-ca': { isCa: true, keyUsage: keyUsage.digitalSignature },
    'key-cert-sign': { keyUsage: keyUsage.digitalSignature | keyUsage.keyCertSign },
    'root-path': { uris: ['spiffe://example.org'] },
    'dns-only': { uris: [], dnsNames: ['legacy.example.org'] },
    'many-defects': { uris: ['spiffe://example.org/a', 'https://example.org/'], keyUsage: keyUsage.cRLSign },
    expired: { notBefore: new Date(Date.now() - 3 * DAY), notAfter: new Date(Date.now() - 2 * DAY) },
    'rsa-sha1': { key: 'rsa-2048', hash: 'SHA-1' },
  };
  for (const [name, spec] of Object.entries(defects)) {
    write(join(cwd, `${name}.pem`), (await makeLeaf(root, spec)).certPem);
  }
});
afterAll(() => work.remove());

async function inspectJson(file: string): Promise<Document> {
  const result = await meshless(['inspect', '--json', file], { cwd });
  expect(result.code, result.stderr).toBe(0);
  return json<Document>(result);
}

describe('meshless inspect', () => {
  it('shows a leaf: subject, SANs, SPIFFE ID, issuer, serial, fingerprint, validity, key, usages, SVID', async () => {
    const result = await meshless(['inspect', 'leaf.pem'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain('file: leaf.pem: one certificate');
    expect(out).toContain('certificate 1 of 1: leaf');
    expect(out).toMatch(/subject:\s+CN=workload/);
    expect(out).toMatch(/issuer:\s+CN=test intermediate/);
    expect(out).toMatch(/serial:\s+[0-9A-F]+/);
    expect(out).toMatch(/fingerprint:\s+SHA256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(out).toMatch(/spiffe id:\s+spiffe:\/\/example\.org\/ns\/default\/sa\/workload/);
    expect(out).toMatch(/dns names:\s+web\.local/);
    expect(out).toMatch(/ip addresses:\s+127\.0\.0\.1/);
    expect(out).toMatch(/validity:\s+✓ expires in (23h5\dm|1d)/);
    expect(out).toMatch(/key:\s+ECDSA P-256/);
    expect(out).toMatch(/signature:\s+ecdsa-with-SHA256/);
    expect(out).toMatch(/key usage:\s+digitalSignature/);
    expect(out).toMatch(/ext key usage:\s+serverAuth, clientAuth/);
    expect(out).toMatch(/x509-svid:\s+✓ conforms \(leaf SVID\)/);
  });

  it('shows a chain in order, each certificate with its role', async () => {
    const result = await meshless(['inspect', 'chain.pem'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('chain of 2 certificates, each issued by the next ✓');
    expect(result.stdout).toContain('certificate 1 of 2: leaf');
    expect(result.stdout).toContain('certificate 2 of 2: intermediate');
    expect(result.stdout).toMatch(/x509-svid:\s+✓ conforms \(signing certificate\)/);
  });

  it('says when a chain is out of order', async () => {
    const doc = await inspectJson('reversed.pem');
    expect(doc.summary).toEqual({ kind: 'chain', count: 2, ordered: false, breaks: [1] });
    const text = await meshless(['inspect', 'reversed.pem'], { cwd });
    expect(text.stdout).toContain('certificate 1 is not issued by certificate 2');
  });

  it('recognises a trust bundle of roots', async () => {
    const doc = await inspectJson('bundle.pem');
    expect(doc.summary.kind).toBe('bundle');
    expect(doc.certificates.map((c) => c.role)).toEqual(['root', 'root']);
    expect(doc.certificates.every((c) => c.svid.conforms && c.svid.profile === 'signing')).toBe(true);
  });

  it('reads stdin for -', async () => {
    const chain = await meshless(['inspect', '-', '--json'], { cwd, input: root.certPem });
    expect(chain.code, chain.stderr).toBe(0);
    const doc = json<Document>(chain);
    expect(doc.source).toBe('stdin');
    expect(doc.certificates[0]?.subject).toBe('CN=example.org test root');
  });

  it('gives one JSON document with the documented shape', async () => {
    const doc = await inspectJson('chain.pem');
    expect(doc).toMatchObject({
      ok: true,
      source: 'chain.pem',
      summary: { kind: 'chain', count: 2, ordered: true },
    });
    const leaf = doc.certificates[0] as View;
    expect(leaf).toMatchObject({
      role: 'leaf',
      subject: 'CN=workload',
      spiffeId: 'spiffe://example.org/ns/default/sa/workload',
      dnsNames: ['web.local'],
      ipAddresses: ['127.0.0.1'],
      valid: true,
      key: { type: 'ec', bits: 256, text: 'ECDSA P-256' },
      signatureAlgorithm: 'ecdsa-with-SHA256',
      isCa: false,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['serverAuth', 'clientAuth'],
      svid: { profile: 'leaf', conforms: true, failures: [] },
    });
    expect(Date.parse(leaf.notAfter)).toBeGreaterThan(Date.now());
    expect(leaf.validity).toMatch(/^expires in /);
  });

  it.each([
    ['two-uris', ['uri-san-count']],
    ['no-key-usage', ['key-usage-missing']],
    ['leaf-is-ca', ['leaf-is-ca']],
    ['key-cert-sign', ['key-usage-key-cert-sign']],
    ['root-path', ['root-path']],
    ['dns-only', ['spiffe-id-missing']],
    ['many-defects', ['uri-san-count', 'key-usage-digital-signature', 'key-usage-crl-sign']],
  ])('reports every X509-SVID rule %s breaks, each with its reason', async (name, rules) => {
    const doc = await inspectJson(`${name}.pem`);
    const svid = doc.certificates[0]?.svid;
    expect(svid?.conforms).toBe(false);
    expect(svid?.failures.map((f) => f.rule)).toEqual(rules);
    const text = await meshless(['inspect', `${name}.pem`], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/x509-svid:\s+✗ does not conform \(leaf SVID\):/);
    for (const failure of svid?.failures ?? [])
      expect(text.stdout).toContain(`- ${failure.reason} (${failure.rule})`);
  });

  it('shows an expired certificate as expired, and RSA keys with their size and hash', async () => {
    const expired = await inspectJson('expired.pem');
    expect(expired.certificates[0]).toMatchObject({
      valid: false,
      validity: expect.stringMatching(/^expired (2d|1d23h)/),
    });
    const text = await meshless(['inspect', 'expired.pem'], { cwd });
    expect(text.stdout).toMatch(/validity:\s+✗ expired/);
    const rsa = await inspectJson('rsa-sha1.pem');
    expect(rsa.certificates[0]?.key).toEqual({ type: 'rsa', bits: 2048, text: 'RSA 2048 bits' });
    expect(rsa.certificates[0]?.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
  });

  it('skips other PEM blocks, and fails (exit 1) on input with no certificate', async () => {
    const mixed = await meshless(['inspect', '-'], {
      cwd,
      input: readFileSync(join(cwd, 'key.pem'), 'utf8') + root.certPem,
    });
    expect(mixed.code).toBe(0);
    expect(mixed.stdout).toMatch(/skipped:\s+PRIVATE KEY block/);
    const key = await meshless(['inspect', 'key.pem'], { cwd });
    expect(key.code).toBe(1);
    expectErrorLine(key.stderr, 'ERR_MESHLESS_PEM_INVALID');
    expect(key.stderr).toContain('holds no CERTIFICATE block (found PRIVATE KEY)');
    const garbage = await meshless(['inspect', 'garbage.pem'], { cwd });
    expect(garbage.code).toBe(1);
    expectErrorLine(garbage.stderr, 'ERR_MESHLESS_PEM_INVALID');
    const missing = await meshless(['inspect', 'missing.pem', '--json'], { cwd });
    expect(missing.code).toBe(1);
    expect(json(missing)).toMatchObject({ ok: false, error: { code: 'ERR_MESHLESS_FILE_UNREADABLE' } });
  });
});
