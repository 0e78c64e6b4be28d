// PeerAdmission's rules for resumed sessions, on real certificates: a session is admitted on the
// verdict of the full handshake that made it; without one, only a leaf a current root signed directly
// can be judged again, and anything else is refused (fail closed). Sessions are bound to the server,
// its mode and its trust bundle by the session id context.
import { X509Certificate } from 'node:crypto';
import { loadMaterial } from '@meshless/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  makeIntermediate,
  makeLeaf,
  makeRoot,
  materialOf,
  type TestCa,
} from '../../../test/support/certs.js';
import { PeerAdmission } from '../src/peer-admission.js';

const ID = 'spiffe://example.org/ns/prod/sa/web';
let root: TestCa;
let intermediate: TestCa;
let material: ReturnType<typeof loadMaterial>;

beforeAll(async () => {
  root = await makeRoot();
  intermediate = await makeIntermediate(root);
  material = loadMaterial(
    materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/server'] })),
  );
});

const x509 = (pem: string) => new X509Certificate(pem);

describe('PeerAdmission', () => {
  it('refuses a resumed session it holds no verdict for when the leaf needs an intermediate', async () => {
    const leaf = await makeLeaf(intermediate, { uris: [ID] });
    const { refusal } = new PeerAdmission().admit(x509(leaf.certPem), true, material);
    expect(refusal?.code).toBe('ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN');
  });

  it('admits the resumed session of a peer its full handshake admitted', async () => {
    const leaf = await makeLeaf(intermediate, { uris: [ID] });
    const admission = new PeerAdmission();
    // A full handshake: the leaf with the chain the peer presented (here linked by hand).
    const cert = x509(leaf.certPem);
    Object.defineProperty(cert, 'issuerCertificate', { value: x509(intermediate.certPem) });
    expect(admission.admit(cert, false, material).refusal).toBeUndefined();
    expect(admission.admit(x509(leaf.certPem), true, material).refusal).toBeUndefined();
    // Under another trust bundle, the verdict does not count.
    const other = loadMaterial({
      ...materialOf(await makeLeaf(root, { uris: [ID] })),
      ca: root.rootPem + (await makeRoot()).rootPem,
    });
    expect(admission.admit(x509(leaf.certPem), true, other).refusal?.code).toBe(
      'ERR_MESHLESS_SESSION_IDENTITY_UNKNOWN',
    );
  });

  it('judges again a resumed leaf a current root signed directly, and refuses it when it breaks the profile', async () => {
    const good = await makeLeaf(root, { uris: [ID] });
    const ca = await makeLeaf(root, { uris: [ID], isCa: true });
    const admission = new PeerAdmission();
    expect(admission.admit(x509(good.certPem), true, material).refusal).toBeUndefined();
    expect(admission.admit(x509(ca.certPem), true, material).refusal?.code).toBe('ERR_MESHLESS_SVID_INVALID');
  });

  it('binds sessions to the server, its mode and its trust bundle', async () => {
    const admission = new PeerAdmission();
    const other = loadMaterial({
      ...materialOf(await makeLeaf(root, { uris: [ID] })),
      ca: root.rootPem + (await makeRoot()).rootPem,
    });
    const strict = admission.sessionIdContext(material, 'strict');
    expect(strict).toMatch(/^[0-9a-f]{32}$/);
    expect(admission.sessionIdContext(material, 'strict')).toBe(strict);
    // A rotation of the own certificate under the same bundle keeps sessions resumable.
    const rotated = loadMaterial(
      materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/server'] })),
    );
    expect(admission.sessionIdContext(rotated, 'strict')).toBe(strict);
    expect(admission.sessionIdContext(material, 'permissive')).not.toBe(strict);
    expect(admission.sessionIdContext(other, 'strict')).not.toBe(strict);
    expect(new PeerAdmission().sessionIdContext(material, 'strict')).not.toBe(strict);
  });
});
