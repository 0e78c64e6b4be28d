// The certificates every scenario uses, made at run time by @meshless/pki (a root and two leaves)
// and written as files, because the servers, the load generators, nginx and openssl all run in
// their own processes and read PEM files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CertificateAuthority,
  createCa,
  type IssuedCertificate,
  type KeyAlgorithm,
} from '@meshless/pki';

export const TRUST_DOMAIN = 'bench.meshless.test';
export const SERVER_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/server`;
export const CLIENT_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/load`;

/** Paths of one set of PEM files, and the SPIFFE IDs in them. */
export interface CertFiles {
  dir: string;
  keyAlgorithm: KeyAlgorithm;
  ca: string;
  /** The server's leaf and chain (`tls.crt`), valid for localhost and 127.0.0.1 as well. */
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  serverId: string;
  clientId: string;
}

/** The benchmark's root CA. */
export function makeCa(keyAlgorithm: KeyAlgorithm = 'ecdsa-p256'): Promise<CertificateAuthority> {
  return createCa({ trustDomain: TRUST_DOMAIN, keyAlgorithm });
}

/** A server leaf: the server's SPIFFE ID, and localhost and 127.0.0.1 for clients that check host names. */
export function issueServerLeaf(ca: CertificateAuthority): Promise<IssuedCertificate> {
  return ca.issue({ spiffeId: SERVER_ID, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
}

/** Makes a server and a client leaf (and a root, unless given) and writes them under a temp dir. */
export async function makeCertFiles(
  keyAlgorithm: KeyAlgorithm = 'ecdsa-p256',
  ca?: CertificateAuthority,
): Promise<CertFiles> {
  const dir = await mkdtemp(join(tmpdir(), `meshless-bench-${keyAlgorithm}-`));
  ca ??= await makeCa(keyAlgorithm);
  const server = await issueServerLeaf(ca);
  const client = await ca.issue({ spiffeId: CLIENT_ID });
  const files: CertFiles = {
    dir,
    keyAlgorithm,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    serverId: SERVER_ID,
    clientId: CLIENT_ID,
  };
  await writeFile(files.ca, ca.caPem);
  await writeFile(files.serverCert, server.chainPem);
  await writeFile(files.serverKey, server.keyPem, { mode: 0o600 });
  await writeFile(files.clientCert, client.chainPem);
  await writeFile(files.clientKey, client.keyPem, { mode: 0o600 });
  return files;
}

/** Removes the files of {@link makeCertFiles}. */
export async function removeCertFiles(files: CertFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}
