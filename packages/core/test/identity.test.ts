import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, type TestCa } from '../../../test/support/certs.js';
import { identityFromCertificate, MeshlessError } from '../src/index.js';

let root: TestCa;
beforeAll(async () => {
  root = await makeRoot();
});

describe('identityFromCertificate', () => {
  it('reads SANs from the DER, from PEM, DER and X509Certificate alike', async () => {
    const leaf = await makeLeaf(root, {
      dnsNames: ['a.example', 'b.example'],
      ipAddresses: ['10.0.0.1', '::1'],
    });
    const node = new X509Certificate(leaf.certPem);
    const fromNode = identityFromCertificate(node);
    const fromPem = identityFromCertificate(leaf.certPem);
    const fromDer = identityFromCertificate(new Uint8Array(leaf.cert.rawData));
    expect(fromPem).toBe(fromNode); // cached by fingerprint: the very same frozen object
    expect(fromDer).toBe(fromNode);
    expect(String(fromNode.spiffeId)).toBe('spiffe://example.org/ns/default/sa/workload');
    expect(fromNode.dnsNames).toEqual(['a.example', 'b.example']);
    expect(fromNode.ipAddresses).toEqual(['10.0.0.1', '::1']);
    expect(fromNode.fingerprint256).toBe(node.fingerprint256);
    expect(fromNode.serialNumber).toBe(node.serialNumber.toUpperCase());
    expect(fromNode.notAfter.getTime()).toBe(new Date(node.validTo).getTime());
    expect(fromNode.subject).toBe('CN=workload');
    expect(Object.isFrozen(fromNode)).toBe(true);
  });

  it('is not fooled by a URI SAN containing the display separator', async () => {
    // Node's subjectaltname string is "URI:a, URI:b": a DNS name with ", URI:spiffe://..." would fool a splitter.
    const leaf = await makeLeaf(root, {
      uris: [],
      dnsNames: ['evil.example, URI:spiffe://example.org/admin'],
    });
    const identity = identityFromCertificate(leaf.certPem);
    expect(identity.spiffeId).toBeUndefined();
    expect(identity.uris).toEqual([]);
    expect(identity.dnsNames).toEqual(['evil.example, URI:spiffe://example.org/admin']);
  });

  it('gives no SPIFFE ID for two URI SANs or an invalid one', async () => {
    const two = await makeLeaf(root, { uris: ['spiffe://example.org/a', 'spiffe://example.org/b'] });
    expect(identityFromCertificate(two.certPem).spiffeId).toBeUndefined();
    expect(identityFromCertificate(two.certPem).uris).toHaveLength(2);
    const bad = await makeLeaf(root, { uris: ['spiffe://Example.org/a'] });
    expect(identityFromCertificate(bad.certPem).spiffeId).toBeUndefined();
  });

  it('throws MeshlessError on garbage', () => {
    expect(() => identityFromCertificate(new Uint8Array([1, 2, 3]))).toThrow(MeshlessError);
    expect(() => identityFromCertificate('nope')).toThrow(MeshlessError);
  });

  it('throws MeshlessError on a well-formed certificate whose SAN extension is corrupt inside', async () => {
    // Found by fuzzing (test/faults/fuzz.test.ts): extensions are decoded lazily, after the constructor.
    const der = new Uint8Array((await makeLeaf(root)).cert.rawData);
    const oid = der.findIndex(
      (_, i) =>
        der[i] === 0x06 &&
        der[i + 1] === 0x03 &&
        der[i + 2] === 0x55 &&
        der[i + 3] === 0x1d &&
        der[i + 4] === 0x11,
    );
    let at = oid + 5;
    if (der[at] === 0x01) at += 3; // critical BOOLEAN
    expect(der[at]).toBe(0x04); // OCTET STRING holding GeneralNames
    expect(der[at + 2]).toBe(0x30);
    der[at + 3] = (der[at + 3] as number) + 16; // GeneralNames claims more bytes than there are
    expect(() => identityFromCertificate(der)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_PEM_INVALID' }),
    );
  });
});
