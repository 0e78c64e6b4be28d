// The bad-input catalogue: files a certificate directory can end up holding, each named after its
// defect, with the MeshlessError code meshless must answer it with and the input it must blame. And
// the tricky-but-valid files it must accept. Certificates are made at test time by
// test/support/certs.ts, which (unlike @meshless/pki) makes any defect on request.
import { createPrivateKey, randomBytes } from 'node:crypto';
import type { MeshlessErrorCode } from '@meshless/core';
import { keyUsage, makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../../support/certs.js';

export const WORKLOAD_ID = 'spiffe://example.org/ns/prod/sa/workload';
const HOUR = 3_600_000;
const TEN_MB = 10 * 1024 * 1024;

/** The three files of a cert-manager secret, as written to disk. */
export interface MaterialFiles {
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
}

export type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

/** The certificates the cases are made from. */
export interface Fixtures {
  root: TestCa;
  foreignRoot: TestCa;
  intermediate: TestCa;
  /** The material a service starts with, and returns to. */
  good: Leaf;
  /** Another valid leaf, whose key is the wrong one for `good`. */
  other: Leaf;
}

export async function makeFixtures(): Promise<Fixtures> {
  const root = await makeRoot();
  const [foreignRoot, intermediate] = await Promise.all([
    makeRoot({ trustDomain: 'evil.org' }),
    makeIntermediate(root),
  ]);
  const [good, other] = await Promise.all([
    makeLeaf(root, { uris: [WORKLOAD_ID], ipAddresses: ['127.0.0.1'] }),
    makeLeaf(root, { uris: [WORKLOAD_ID], ipAddresses: ['127.0.0.1'] }),
  ]);
  return { root, foreignRoot, intermediate, good, other };
}

/** The good files of a leaf: its chain, its key, the bundle. */
export function filesOf(leaf: { chainPem: string; keyPem: string; caPem: string }): MaterialFiles {
  return { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem };
}

export interface BadInput {
  /** The defect, as the test is named. */
  name: string;
  code: MeshlessErrorCode;
  /**
   * The input the error must blame (its `context.input`): a file, or for weak signatures the
   * certificate's role in the cert file, as core reports it.
   */
  input: 'cert' | 'key' | 'ca' | 'leaf' | 'intermediate';
  /** The passphrase the loader is configured with. */
  passphrase?: string;
  make(f: Fixtures): Promise<MaterialFiles>;
}

/** PEM text of `size` bytes: `block` repeated. A well-formed huge file, not just garbage. */
function repeatedTo(block: string, size: number): Buffer {
  return Buffer.from(block.repeat(Math.ceil(size / block.length)).slice(0, size));
}

function encrypted(keyPem: string, passphrase: string, legacy = false): string {
  const key = createPrivateKey(keyPem);
  return key.export(
    legacy
      ? { type: 'sec1', format: 'pem', cipher: 'aes-128-cbc', passphrase }
      : { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
  ) as string;
}

const half = (text: string) => text.slice(0, Math.floor(text.length / 2));
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
const leafFrom = async (f: Fixtures, spec: Parameters<typeof makeLeaf>[1]) =>
  filesOf(await makeLeaf(f.root, { uris: [WORKLOAD_ID], ...spec }));

const { digitalSignature, keyEncipherment, keyCertSign } = keyUsage;

export const BAD_INPUTS: BadInput[] = [
  // Files that are not PEM at all.
  {
    name: 'an empty cert file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: '' }),
  },
  {
    name: 'an empty key file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: '' }),
  },
  {
    name: 'an empty bundle',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'ca',
    make: async (f) => ({ ...filesOf(f.good), ca: '' }),
  },
  {
    name: 'a truncated cert file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: half(f.good.chainPem) }),
  },
  {
    name: 'a truncated key file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: half(f.good.keyPem) }),
  },
  {
    name: 'a binary (DER) cert file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: derOf(f.good.certPem) }),
  },
  {
    name: 'a binary (DER) key file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: derOf(f.good.keyPem) }),
  },
  {
    name: 'random bytes as the cert file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: randomBytes(4096) }),
  },
  {
    name: 'a garbage bundle',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'ca',
    make: async (f) => ({ ...filesOf(f.good), ca: 'trust me, I am a CA\n' }),
  },
  {
    name: 'corrupt base64 inside a certificate block',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => {
      const lines = f.good.certPem.split('\n');
      lines[3] = 'not*base64*at*all!';
      return { ...filesOf(f.good), cert: lines.join('\n') };
    },
  },
  // Huge files: refused by size before any parsing.
  {
    name: 'a huge (10 MB) cert file',
    code: 'ERR_MESHLESS_INPUT_TOO_LARGE',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: repeatedTo(f.good.chainPem, TEN_MB) }),
  },
  {
    name: 'a huge (10 MB) key file',
    code: 'ERR_MESHLESS_INPUT_TOO_LARGE',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: repeatedTo(f.good.keyPem, TEN_MB) }),
  },
  {
    name: 'a huge (10 MB) bundle',
    code: 'ERR_MESHLESS_INPUT_TOO_LARGE',
    input: 'ca',
    make: async (f) => ({ ...filesOf(f.good), ca: repeatedTo(f.root.rootPem, TEN_MB) }),
  },
  // PEM with the wrong content.
  {
    name: 'a private key in the cert file (wrong PEM label)',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'cert',
    make: async (f) => ({ ...filesOf(f.good), cert: f.good.keyPem }),
  },
  {
    name: 'a certificate in the key file (wrong PEM label)',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: f.good.certPem }),
  },
  {
    name: 'a CSR in the bundle (wrong PEM label)',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'ca',
    make: async (f) => ({
      ...filesOf(f.good),
      ca: f.root.rootPem.replace(/CERTIFICATE-----/g, 'CERTIFICATE REQUEST-----'),
    }),
  },
  {
    name: 'a key file holding two keys',
    code: 'ERR_MESHLESS_PEM_INVALID',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: f.good.keyPem + f.other.keyPem }),
  },
  // Keys.
  {
    name: 'a mismatched key (another certificate’s)',
    code: 'ERR_MESHLESS_KEY_MISMATCH',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: f.other.keyPem }),
  },
  {
    name: 'a chain in the wrong order (intermediate before the leaf)',
    code: 'ERR_MESHLESS_KEY_MISMATCH',
    input: 'key',
    make: async (f) => {
      const leaf = await makeLeaf(f.intermediate, { uris: [WORKLOAD_ID] });
      return { ...filesOf(leaf), cert: f.intermediate.certPem + leaf.certPem };
    },
  },
  {
    name: 'an encrypted key without a passphrase',
    code: 'ERR_MESHLESS_KEY_ENCRYPTED',
    input: 'key',
    make: async (f) => ({ ...filesOf(f.good), key: encrypted(f.good.keyPem, 'right') }),
  },
  {
    name: 'an encrypted key with a wrong passphrase',
    code: 'ERR_MESHLESS_KEY_DECRYPT_FAILED',
    input: 'key',
    passphrase: 'right',
    make: async (f) => ({ ...filesOf(f.good), key: encrypted(f.good.keyPem, 'wrong') }),
  },
  {
    name: 'a legacy encrypted (Proc-Type) key with a wrong passphrase',
    code: 'ERR_MESHLESS_KEY_DECRYPT_FAILED',
    input: 'key',
    passphrase: 'right',
    make: async (f) => ({ ...filesOf(f.good), key: encrypted(f.good.keyPem, 'wrong', true) }),
  },
  {
    name: 'an RSA-1024 leaf key',
    code: 'ERR_MESHLESS_KEY_WEAK',
    input: 'key',
    make: async (f) => leafFrom(f, { key: 'rsa-1024' }),
  },
  {
    name: 'an RSA-1024 root in the bundle',
    code: 'ERR_MESHLESS_KEY_WEAK',
    input: 'ca',
    make: async () => filesOf(await makeLeaf(await makeRoot({ key: 'rsa-1024' }), { uris: [WORKLOAD_ID] })),
  },
  // Signatures and validity.
  {
    name: 'a SHA-1 signed leaf',
    code: 'ERR_MESHLESS_SIGNATURE_WEAK',
    input: 'cert',
    make: async (f) => leafFrom(f, { hash: 'SHA-1' }),
  },
  {
    name: 'a SHA-1 signed intermediate',
    code: 'ERR_MESHLESS_SIGNATURE_WEAK',
    input: 'cert',
    make: async (f) =>
      filesOf(await makeLeaf(await makeIntermediate(f.root, { hash: 'SHA-1' }), { uris: [WORKLOAD_ID] })),
  },
  {
    name: 'an expired leaf',
    code: 'ERR_MESHLESS_CERT_EXPIRED',
    input: 'cert',
    make: async (f) =>
      leafFrom(f, { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) }),
  },
  {
    name: 'a not-yet-valid leaf',
    code: 'ERR_MESHLESS_CERT_NOT_YET_VALID',
    input: 'cert',
    make: async (f) =>
      leafFrom(f, { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) }),
  },
  {
    name: 'an expired intermediate',
    code: 'ERR_MESHLESS_CERT_EXPIRED',
    input: 'cert',
    make: async (f) => {
      const old = await makeIntermediate(f.root, {
        notBefore: new Date(Date.now() - 2 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      });
      return filesOf(await makeLeaf(old, { uris: [WORKLOAD_ID] }));
    },
  },
  // Trust.
  {
    name: 'a leaf from a foreign CA',
    code: 'ERR_MESHLESS_CHAIN_UNTRUSTED',
    input: 'cert',
    make: async (f) => ({
      ...filesOf(await makeLeaf(f.foreignRoot, { uris: [WORKLOAD_ID] })),
      ca: f.root.rootPem,
    }),
  },
  {
    name: 'a missing intermediate',
    code: 'ERR_MESHLESS_CHAIN_UNTRUSTED',
    input: 'cert',
    make: async (f) => {
      const leaf = await makeLeaf(f.intermediate, { uris: [WORKLOAD_ID] });
      return { ...filesOf(leaf), cert: leaf.certPem };
    },
  },
  {
    name: 'an issuer that is not a CA',
    code: 'ERR_MESHLESS_CHAIN_UNTRUSTED',
    input: 'cert',
    make: async (f) =>
      filesOf(await makeLeaf(await makeIntermediate(f.root, { isCa: false }), { uris: [WORKLOAD_ID] })),
  },
  {
    name: 'a bundle holding a leaf instead of a root',
    code: 'ERR_MESHLESS_BUNDLE_INVALID',
    input: 'ca',
    make: async (f) => ({ ...filesOf(f.good), ca: f.other.certPem }),
  },
  // The X509-SVID profile.
  {
    name: 'a leaf that is a CA',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { isCa: true, keyUsage: digitalSignature }),
  },
  {
    name: 'a leaf that is a CA, without a SPIFFE ID',
    code: 'ERR_MESHLESS_LEAF_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { uris: [], dnsNames: ['web.internal'], isCa: true }),
  },
  {
    name: 'a leaf with two URI SANs',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { uris: [WORKLOAD_ID, 'spiffe://example.org/ns/prod/sa/other'] }),
  },
  {
    name: 'a SPIFFE ID without a path',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { uris: ['spiffe://example.org'] }),
  },
  {
    name: 'a malformed SPIFFE ID (upper-case trust domain)',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { uris: ['spiffe://Example.org/ns/prod'] }),
  },
  {
    name: 'a leaf with keyCertSign',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { keyUsage: digitalSignature | keyCertSign }),
  },
  {
    name: 'a leaf without digitalSignature',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { key: 'rsa-2048', keyUsage: keyEncipherment }),
  },
  {
    name: 'a leaf without a key usage extension',
    code: 'ERR_MESHLESS_SVID_INVALID',
    input: 'cert',
    make: async (f) => leafFrom(f, { keyUsage: null }),
  },
];

/** A tricky-but-valid input: accepted, and served. */
export interface GoodInput {
  name: string;
  passphrase?: string;
  make(f: Fixtures): Promise<MaterialFiles>;
}

const reKey = (keyPem: string, type: 'pkcs1' | 'pkcs8' | 'sec1') =>
  createPrivateKey(keyPem).export({ type, format: 'pem' }) as string;
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

export const GOOD_INPUTS: GoodInput[] = [
  {
    name: 'a PKCS#1 RSA key',
    make: async (f) => {
      const leaf = await makeLeaf(f.root, { uris: [WORKLOAD_ID], key: 'rsa-2048' });
      return { ...filesOf(leaf), key: reKey(leaf.keyPem, 'pkcs1') };
    },
  },
  { name: 'a PKCS#8 EC key', make: async (f) => filesOf(await makeLeaf(f.root, { uris: [WORKLOAD_ID] })) },
  {
    name: 'a SEC1 EC key after its EC PARAMETERS block (openssl ecparam -genkey)',
    make: async (f) => {
      const leaf = await makeLeaf(f.root, { uris: [WORKLOAD_ID] });
      const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
      return { ...filesOf(leaf), key: params + reKey(leaf.keyPem, 'sec1') };
    },
  },
  {
    name: 'CRLF line endings in all three files',
    make: async (f) => {
      const files = filesOf(await makeLeaf(f.intermediate, { uris: [WORKLOAD_ID] }));
      return { cert: crlf(String(files.cert)), key: crlf(String(files.key)), ca: crlf(String(files.ca)) };
    },
  },
  {
    name: 'a chain through an intermediate',
    make: async (f) => filesOf(await makeLeaf(f.intermediate, { uris: [WORKLOAD_ID] })),
  },
  {
    name: 'a chain through two intermediates',
    make: async (f) =>
      filesOf(await makeLeaf(await makeIntermediate(f.intermediate), { uris: [WORKLOAD_ID] })),
  },
  {
    name: 'a bundle with several roots, the issuing one last',
    make: async (f) => {
      const third = await makeRoot({ trustDomain: 'third.org' });
      const leaf = await makeLeaf(f.root, { uris: [WORKLOAD_ID] });
      return { ...filesOf(leaf), ca: f.foreignRoot.rootPem + third.rootPem + f.root.rootPem };
    },
  },
  {
    name: 'an encrypted PKCS#8 key with its passphrase',
    passphrase: 'right',
    make: async (f) => {
      const leaf = await makeLeaf(f.root, { uris: [WORKLOAD_ID] });
      return { ...filesOf(leaf), key: encrypted(leaf.keyPem, 'right') };
    },
  },
  {
    name: 'comments around the PEM blocks, files joined without a final newline',
    make: async (f) => {
      const leaf = await makeLeaf(f.intermediate, { uris: [WORKLOAD_ID] });
      const cert = `subject=CN=workload\n${leaf.certPem.trimEnd()}${f.intermediate.certPem}`;
      return { ...filesOf(leaf), cert };
    },
  },
];
