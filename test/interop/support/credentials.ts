// The certificates the interop peers use, made two ways: by @meshless/pki (root, intermediate, ECDSA
// P-256 leaves) and by the openssl CLI (an RSA root signing RSA leaves whose keys are PKCS#1). Each set
// has a server SVID (with IP SAN 127.0.0.1, so peers can check the host name), an allowed client and
// an intruder that the trust bundle vouches for but the authorizer denies.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa } from '@meshless/pki';
import { expectSuccess, requireTool, run } from './tools.js';

export const SERVER_ID = 'spiffe://example.org/ns/prod/sa/server';
export const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';
export const INTRUDER_ID = 'spiffe://example.org/ns/prod/sa/intruder';

export type Flavor = 'pki' | 'openssl';

/** One workload's credentials, in memory and as files. */
export interface Credential {
  spiffeId: string;
  /** The leaf alone. */
  certPem: string;
  /** The leaf, then intermediates. */
  chainPem: string;
  keyPem: string;
  /** `intermediates` only when the chain has any. */
  files: { cert: string; chain: string; key: string; intermediates?: string };
}

export interface CredentialSet {
  flavor: Flavor;
  caPem: string;
  caFile: string;
  server: Credential;
  client: Credential;
  intruder: Credential;
}

type Names = { spiffeId: string; ipAddresses?: string[]; dnsNames?: string[] };

const ROLES: Record<'server' | 'client' | 'intruder', Names> = {
  server: { spiffeId: SERVER_ID, ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] },
  client: { spiffeId: CLIENT_ID },
  intruder: { spiffeId: INTRUDER_ID },
};

async function save(
  dir: string,
  role: string,
  spiffeId: string,
  pems: { certPem: string; chainPem: string; keyPem: string },
): Promise<Credential> {
  const files = {
    cert: join(dir, `${role}.crt`),
    chain: join(dir, `${role}-chain.crt`),
    key: join(dir, `${role}.key`),
  };
  await writeFile(files.cert, pems.certPem);
  await writeFile(files.chain, pems.chainPem);
  await writeFile(files.key, pems.keyPem, { mode: 0o600 });
  const intermediates = pems.chainPem.slice(pems.chainPem.indexOf(pems.certPem) + pems.certPem.length);
  if (intermediates.includes('BEGIN CERTIFICATE')) {
    const file = join(dir, `${role}-intermediates.crt`);
    await writeFile(file, intermediates);
    return { spiffeId, ...pems, files: { ...files, intermediates: file } };
  }
  return { spiffeId, ...pems, files };
}

/** Credentials issued by @meshless/pki through an intermediate, written into `dir`. */
export async function pkiCredentials(dir: string): Promise<CredentialSet> {
  const root = await createCa({ trustDomain: 'example.org', ttl: '2d' });
  const ca = await root.createIntermediate({ ttl: '1d' });
  const caFile = join(dir, 'ca.crt');
  await writeFile(caFile, root.caPem);
  const issue = async (role: keyof typeof ROLES) => {
    const issued = await ca.issue({ ...ROLES[role], ttl: '1h' });
    return await save(dir, role, ROLES[role].spiffeId, issued);
  };
  return {
    flavor: 'pki',
    caPem: root.caPem,
    caFile,
    server: await issue('server'),
    client: await issue('client'),
    intruder: await issue('intruder'),
  };
}

const ROOT_CONFIG = `
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_root
[dn]
O = meshless interop
CN = openssl interop root
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

function leafExtensions(names: Names): string {
  const sans = [
    `URI:${names.spiffeId}`,
    ...(names.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(names.ipAddresses ?? []).map((a) => `IP:${a}`),
  ];
  return `[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = ${sans.join(', ')}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;
}

/** Credentials made with the openssl CLI alone (RSA 2048, PKCS#1 keys, no intermediate), written into `dir`. */
export async function opensslCredentials(dir: string): Promise<CredentialSet> {
  const openssl = requireTool('openssl');
  const ssl = async (args: string[]) =>
    expectSuccess(await run(openssl, args, { cwd: dir }), `openssl ${args[0]}`);
  await writeFile(join(dir, 'root.cnf'), ROOT_CONFIG);
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await ssl(
    ['req', '-x509', '-config', 'root.cnf', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey].concat([
      '-out',
      caFile,
      '-days',
      '2',
      '-sha256',
    ]),
  );
  const issue = async (role: keyof typeof ROLES) => {
    const names = ROLES[role];
    const key = join(dir, `${role}.key`);
    const csr = join(dir, `${role}.csr`);
    const cert = join(dir, `${role}.crt`);
    const ext = join(dir, `${role}.ext`);
    await ssl(['genrsa', '-traditional', '-out', key, '2048']);
    await ssl(['req', '-new', '-key', key, '-subj', `/O=meshless interop/CN=${role}`, '-out', csr]);
    await writeFile(ext, leafExtensions(names));
    const serial = `0x4${randomBytes(15).toString('hex')}`;
    await ssl(
      ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', serial].concat([
        '-days',
        '1',
        '-sha256',
        '-extfile',
        ext,
        '-extensions',
        'v3_leaf',
        '-out',
        cert,
      ]),
    );
    const certPem = await readFile(cert, 'utf8');
    const keyPem = await readFile(key, 'utf8');
    return await save(dir, role, names.spiffeId, { certPem, chainPem: certPem, keyPem });
  };
  return {
    flavor: 'openssl',
    caPem: await readFile(caFile, 'utf8'),
    caFile,
    server: await issue('server'),
    client: await issue('client'),
    intruder: await issue('intruder'),
  };
}

/** Both flavors' credentials, each in its own subdirectory of `dir`. */
export async function credentialSets(dir: string): Promise<Record<Flavor, CredentialSet>> {
  await mkdir(join(dir, 'pki'));
  await mkdir(join(dir, 'openssl'));
  const [pki, openssl] = await Promise.all([
    pkiCredentials(join(dir, 'pki')),
    opensslCredentials(join(dir, 'openssl')),
  ]);
  return { pki, openssl };
}
