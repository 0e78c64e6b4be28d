// Peer certificates made by the openssl CLI, a tool independent of this project and of
// @peculiar/x509, for the attack tests: keys of any kind OpenSSL makes (DSA included) and extensions
// written as OpenSSL's own configuration.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OpensslLeafSpec {
  /** `genpkey` arguments for the key, e.g. `['-algorithm', 'DSA', ...]`; default EC P-256. */
  key?: 'ec-p256' | 'dsa-2048' | 'rsa-1024' | 'rsa-2048';
  /** The body of an OpenSSL extension section (`basicConstraints = critical,CA:FALSE` lines). */
  extensions: string;
  subject?: string;
  days?: number;
}

const KEY_ARGS: Record<NonNullable<OpensslLeafSpec['key']>, string[]> = {
  'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'rsa-1024': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  'rsa-2048': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  'dsa-2048': [],
};

/**
 * A certificate signed by `issuer` (PEM certificate and key) with the openssl CLI; `chainPem` is the
 * leaf followed by `issuer.chainPem`.
 */
export async function opensslLeaf(
  issuer: { certPem: string; keyPem: string; chainPem: string },
  spec: OpensslLeafSpec,
): Promise<{ certPem: string; keyPem: string; chainPem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-openssl-'));
  try {
    const path = (name: string) => join(dir, name);
    await writeFile(path('issuer.crt'), issuer.certPem);
    await writeFile(path('issuer.key'), issuer.keyPem);
    await writeFile(path('leaf.ext'), `[leaf]\n${spec.extensions}\n`);
    const kind = spec.key ?? 'ec-p256';
    if (kind === 'dsa-2048') {
      await run('openssl', [
        'genpkey',
        '-genparam',
        '-algorithm',
        'DSA',
        '-pkeyopt',
        'dsa_paramgen_bits:2048',
        '-out',
        path('dsa.param'),
      ]);
      await run('openssl', ['genpkey', '-paramfile', path('dsa.param'), '-out', path('leaf.key')]);
    } else {
      await run('openssl', ['genpkey', ...KEY_ARGS[kind], '-out', path('leaf.key')]);
    }
    await run('openssl', [
      'req',
      '-new',
      '-key',
      path('leaf.key'),
      '-subj',
      spec.subject ?? '/CN=openssl peer',
      '-out',
      path('leaf.csr'),
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      path('leaf.csr'),
      '-CA',
      path('issuer.crt'),
      '-CAkey',
      path('issuer.key'),
      '-set_serial',
      `0x5${randomBytes(15).toString('hex')}`,
      '-days',
      String(spec.days ?? 1),
      '-sha256',
      '-extfile',
      path('leaf.ext'),
      '-extensions',
      'leaf',
      '-out',
      path('leaf.crt'),
    ]);
    const certPem = await readFile(path('leaf.crt'), 'utf8');
    return { certPem, keyPem: await readFile(path('leaf.key'), 'utf8'), chainPem: certPem + issuer.chainPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether this Node line's OpenSSL refuses the certificate's key at its default security level
 * (OpenSSL 3.5 on Node 22 and later refuses RSA-1024; OpenSSL 3.0 on Node 20 does not): there a weak
 * key is refused by OpenSSL in the handshake, before meshless's key policy sees it.
 */
export function opensslRefusesKeyOf(peer: { chainPem: string; keyPem: string }): boolean {
  try {
    tls.createSecureContext({ cert: peer.chainPem, key: peer.keyPem });
    return false;
  } catch {
    return true;
  }
}
