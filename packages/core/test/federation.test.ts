import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  makeIntermediate,
  makeLeaf,
  makeRoot,
  materialOf,
  type TestCa,
} from '../../../test/support/certs.js';
import {
  loadMaterial,
  MeshlessError,
  type MeshlessErrorCode,
  trustedRoots,
  trustedRootsPem,
  verifyPeerTrustDomain,
} from '../src/index.js';

const A = 'spiffe://a.org/ns/prod/sa/web';
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let aRoot: TestCa;
let bRoot: TestCa;
let cRoot: TestCa;
let aLeaf: Leaf;

beforeAll(async () => {
  aRoot = await makeRoot({ trustDomain: 'a.org' });
  bRoot = await makeRoot({ trustDomain: 'b.org' });
  cRoot = await makeRoot({ trustDomain: 'c.org' });
  aLeaf = await makeLeaf(aRoot, { uris: [A] });
});

function codeOf(fn: () => unknown): { code?: MeshlessErrorCode; rule?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MeshlessError);
    return { code: (err as MeshlessError).code, rule: (err as MeshlessError).context.rule };
  }
  throw new Error('expected a MeshlessError');
}

describe('loadMaterial with federatedBundles', () => {
  it('keeps caPem as the own bundle and lists every bundle by trust domain', () => {
    const material = loadMaterial({
      ...materialOf(aLeaf),
      federatedBundles: { 'spiffe://b.org': bRoot.rootPem },
    });
    expect(material.caPem).toBe(aRoot.rootPem);
    expect([...(material.bundles?.keys() ?? [])]).toEqual(['a.org', 'b.org']);
    expect(material.bundles?.get('b.org')).toBe(bRoot.rootPem);
    expect(trustedRootsPem(material)).toBe(aRoot.rootPem + bRoot.rootPem);
    expect(trustedRoots(material).map((r) => r.fingerprint256)).toEqual([
      new X509Certificate(aRoot.rootPem).fingerprint256,
      new X509Certificate(bRoot.rootPem).fingerprint256,
    ]);
  });

  it('changes the content hash when a federated bundle changes, and only then', () => {
    const plain = loadMaterial(materialOf(aLeaf));
    const none = loadMaterial({ ...materialOf(aLeaf), federatedBundles: {} });
    const withB = loadMaterial({
      ...materialOf(aLeaf),
      federatedBundles: new Map([['b.org', bRoot.rootPem]]),
    });
    const withC = loadMaterial({ ...materialOf(aLeaf), federatedBundles: { 'c.org': cRoot.rootPem } });
    expect(plain.bundles).toBeUndefined();
    expect(none.contentHash).toBe(plain.contentHash);
    expect(withB.contentHash).not.toBe(plain.contentHash);
    expect(withC.contentHash).not.toBe(withB.contentHash);
    expect(trustedRootsPem(plain)).toBe(plain.caPem);
  });

  it.each([
    [
      'the own trust domain',
      () => ({ 'a.org': bRoot.rootPem }),
      'ERR_MESHLESS_BUNDLE_INVALID',
      'own-trust-domain',
    ],
    [
      'a trust domain given twice',
      () => ({ 'b.org': bRoot.rootPem, 'spiffe://b.org': bRoot.rootPem }),
      'ERR_MESHLESS_BUNDLE_INVALID',
      'duplicate-trust-domain',
    ],
    [
      'a bad trust domain name',
      () => ({ 'B.ORG': bRoot.rootPem }),
      'ERR_MESHLESS_TRUST_DOMAIN_INVALID',
      undefined,
    ],
    ['a bundle that is not PEM', () => ({ 'b.org': 'junk' }), 'ERR_MESHLESS_PEM_INVALID', undefined],
    ['a leaf as a root', () => ({ 'b.org': aLeaf.certPem }), 'ERR_MESHLESS_BUNDLE_INVALID', undefined],
  ])('refuses %s', (_name, bundles, code, rule) => {
    const error = codeOf(() => loadMaterial({ ...materialOf(aLeaf), federatedBundles: bundles() }));
    expect(error.code).toBe(code);
    if (rule) expect(error.rule).toBe(rule);
  });

  it('refuses federated bundles for a leaf without a SPIFFE ID', async () => {
    const named = await makeLeaf(aRoot, { uris: [], dnsNames: ['web.internal'] });
    const error = codeOf(() =>
      loadMaterial({ ...materialOf(named), federatedBundles: { 'b.org': bRoot.rootPem } }),
    );
    expect(error).toEqual({ code: 'ERR_MESHLESS_BUNDLE_INVALID', rule: 'own-trust-domain-unknown' });
  });
});

describe('verifyPeerTrustDomain', () => {
  const federated = () =>
    loadMaterial({ ...materialOf(aLeaf), federatedBundles: { 'b.org': bRoot.rootPem } });
  const cert = (pem: string) => new X509Certificate(pem);

  it('accepts peers of each trust domain issued by their own bundle', async () => {
    const material = federated();
    const bPeer = await makeLeaf(bRoot, { uris: ['spiffe://b.org/api'] });
    expect(() => verifyPeerTrustDomain(material, cert(aLeaf.certPem))).not.toThrow();
    expect(() => verifyPeerTrustDomain(material, cert(bPeer.certPem))).not.toThrow();
  });

  it("refuses a.org's SPIFFE ID issued by b.org's CA, although b.org's root is trusted", async () => {
    const forged = await makeLeaf(bRoot, { uris: ['spiffe://a.org/ns/prod/sa/payments'] });
    expect(codeOf(() => verifyPeerTrustDomain(federated(), cert(forged.certPem)))).toEqual({
      code: 'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
      rule: 'foreign-issuer',
    });
  });

  it('refuses a forged root with the same name as the real one', async () => {
    // SPIRE's default CA subject is the same in every deployment: names prove nothing.
    const impostor = await makeRoot({ trustDomain: 'a.org' });
    const forged = await makeLeaf(impostor, { uris: [A] });
    const material = loadMaterial({
      ...materialOf(aLeaf),
      federatedBundles: { 'b.org': impostor.rootPem },
    });
    expect(codeOf(() => verifyPeerTrustDomain(material, cert(forged.certPem))).code).toBe(
      'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
    );
  });

  it('refuses a peer of a trust domain that has no bundle', async () => {
    const cPeer = await makeLeaf(cRoot, { uris: ['spiffe://c.org/api'] });
    expect(codeOf(() => verifyPeerTrustDomain(federated(), cert(cPeer.certPem)))).toEqual({
      code: 'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
      rule: 'no-bundle',
    });
  });

  it('checks a peer without a SPIFFE ID against the own bundle', async () => {
    const named = await makeLeaf(bRoot, { uris: [], dnsNames: ['api.b.org'] });
    expect(codeOf(() => verifyPeerTrustDomain(federated(), cert(named.certPem))).code).toBe(
      'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
    );
  });

  it('needs the presented intermediates for a peer issued below the root', async () => {
    const intermediate = await makeIntermediate(bRoot);
    const bPeer = await makeLeaf(intermediate, { uris: ['spiffe://b.org/api'] });
    // Alone, the leaf does not reach b.org's root; TLS sockets link the presented chain (issuerCertificate).
    expect(codeOf(() => verifyPeerTrustDomain(federated(), cert(bPeer.certPem))).code).toBe(
      'ERR_MESHLESS_PEER_BUNDLE_MISMATCH',
    );
    expect(() =>
      verifyPeerTrustDomain(federated(), cert(bPeer.certPem), [cert(intermediate.certPem)]),
    ).not.toThrow();
    // An intermediate of b.org does not make a.org's name good.
    const forged = await makeLeaf(intermediate, { uris: [A] });
    expect(
      codeOf(() => verifyPeerTrustDomain(federated(), cert(forged.certPem), [cert(intermediate.certPem)]))
        .code,
    ).toBe('ERR_MESHLESS_PEER_BUNDLE_MISMATCH');
  });

  it('checks nothing for material of a single trust domain (OpenSSL verified against it)', async () => {
    const forged = await makeLeaf(bRoot, { uris: [A] });
    expect(() => verifyPeerTrustDomain(loadMaterial(materialOf(aLeaf)), cert(forged.certPem))).not.toThrow();
  });
});
