// Certificate revocation lists made by the openssl CLI, a tool independent of meshless and of
// @peculiar/x509, so that a test of CRL handling does not check meshless against itself.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A CA as the test factories make it: its certificate and private key in PEM. */
export interface CrlIssuer {
  certPem: string;
  keyPem: string;
}

/** A certificate to revoke: its serial number in hex, as `X509Certificate.serialNumber` gives it. */
export interface Revoked {
  serialNumber: string;
}

/** A PEM CRL signed by `issuer` with `openssl ca -gencrl`, revoking `revoked`, valid for a day. */
export async function opensslCrl(issuer: CrlIssuer, revoked: Revoked[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-crl-'));
  try {
    const stamp = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;
    const expiry = stamp(new Date(Date.now() + 86_400_000));
    const revokedAt = stamp(new Date(Date.now() - 60_000));
    const index = revoked
      .map((cert) => {
        const serial = cert.serialNumber.toUpperCase();
        return `R\t${expiry}\t${revokedAt}\t${serial.length % 2 ? `0${serial}` : serial}\tunknown\t/CN=revoked\n`;
      })
      .join('');
    await writeFile(join(dir, 'index.txt'), index);
    await writeFile(join(dir, 'crlnumber'), '01\n');
    await writeFile(join(dir, 'ca.pem'), issuer.certPem);
    await writeFile(join(dir, 'ca.key'), issuer.keyPem);
    await writeFile(
      join(dir, 'openssl.cnf'),
      [
        '[ ca ]',
        'default_ca = test_ca',
        '[ test_ca ]',
        `database = ${join(dir, 'index.txt')}`,
        `crlnumber = ${join(dir, 'crlnumber')}`,
        'default_md = sha256',
        'default_crl_days = 1',
        '',
      ].join('\n'),
    );
    await run('openssl', [
      'ca',
      '-gencrl',
      '-batch',
      '-config',
      join(dir, 'openssl.cnf'),
      '-cert',
      join(dir, 'ca.pem'),
      '-keyfile',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'crl.pem'),
    ]);
    return await readFile(join(dir, 'crl.pem'), 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
