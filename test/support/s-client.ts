// openssl s_client as an attacker's TLS client: unlike Node's, it keeps a session ticket that arrives
// on a connection the server closes right after the handshake (-sess_out), and offers it again later
// (-sess_in). One GET per call; never rejects.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SClientPeer {
  chainPem: string;
  keyPem: string;
}

export interface SClientOutcome {
  status: number | undefined;
  resumed: boolean;
  /** Whether s_client saved a session to offer again. */
  sessionSaved: boolean;
}

/** A folder holding the peer's files and the session s_client saves between calls. */
export async function sClientSession(
  peer: SClientPeer,
  caPem: string,
  version: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3',
) {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-s-client-'));
  await writeFile(join(dir, 'chain.pem'), peer.chainPem);
  await writeFile(join(dir, 'key.pem'), peer.keyPem);
  await writeFile(join(dir, 'ca.pem'), caPem);
  const sessionFile = join(dir, 'session.pem');
  return {
    /** Connects over `version`, offering the saved session when `resume`, and sends `GET /`. */
    async get(port: number, resume: boolean): Promise<SClientOutcome> {
      const args = [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2',
        '-CAfile',
        join(dir, 'ca.pem'),
      ];
      args.push('-cert', join(dir, 'chain.pem'), '-cert_chain', join(dir, 'chain.pem'));
      args.push('-key', join(dir, 'key.pem'), '-ign_eof', resume ? '-sess_in' : '-sess_out', sessionFile);
      const input = 'GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n';
      const stdout = await new Promise<string>((resolve) => {
        const child = execFile('openssl', args, { timeout: 10_000 }, (_error, out) => resolve(String(out)));
        child.stdin?.end(input);
      });
      const status = /^HTTP\/1\.1 (\d{3})/m.exec(stdout)?.[1];
      return {
        status: status ? Number(status) : undefined,
        resumed: /^Reused, /m.test(stdout),
        sessionSaved: await stat(sessionFile).then(
          (s) => s.size > 0,
          () => false,
        ),
      };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
