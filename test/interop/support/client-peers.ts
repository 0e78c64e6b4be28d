// Foreign TLS clients that call a meshless server: curl, openssl s_client, Python's ssl module and a
// Go crypto/tls client. Each verifies the server's chain and its IP SAN 127.0.0.1, presents the given
// credential (or none), and reports the HTTP answer or the failure.
import type { Credential, CredentialSet } from './credentials.js';
import { PYTHON_CLIENT } from './python-peer.js';
import { type RunResult, requireTool, run } from './tools.js';

/** What a foreign client got: an HTTP answer, or no answer and why. */
export type PeerAnswer =
  | { answered: true; status: number; body: string; version?: string }
  | { answered: false; why: string };

export interface ClientPeer {
  name: string;
  /** GET `path` on a meshless server at 127.0.0.1:`port`, trusting `set.caFile`, presenting `who`. */
  get(port: number, path: string, set: CredentialSet, who: Credential | undefined): Promise<PeerAnswer>;
}

function failure(result: RunResult): PeerAnswer {
  const why = `exit ${result.code}${result.timedOut ? ' (timed out)' : ''}: ${result.stderr.trim()} ${result.stdout.trim()}`;
  return { answered: false, why };
}

/** Splits a raw HTTP/1.1 response (Content-Length framed, as the test servers send). */
function parseRawHttp(raw: string): { status: number; body: string } | undefined {
  const start = raw.indexOf('HTTP/1.1 ');
  if (start === -1) return undefined;
  const response = raw.slice(start);
  const split = response.indexOf('\r\n\r\n');
  if (split === -1) return undefined;
  const status = Number(response.slice(9, 12));
  return { status, body: response.slice(split + 4) };
}

const curl: ClientPeer = {
  name: 'curl',
  async get(port, path, set, who) {
    const args = ['--silent', '--show-error', '--max-time', '10', '--cacert', set.caFile];
    if (who) args.push('--cert', who.files.chain, '--key', who.files.key);
    args.push('--write-out', '\n%{http_code}', `https://127.0.0.1:${port}${path}`);
    const result = await run(requireTool('curl'), args, { timeoutMs: 15_000 });
    if (result.code !== 0) return failure(result);
    const newline = result.stdout.lastIndexOf('\n');
    return {
      answered: true,
      status: Number(result.stdout.slice(newline + 1)),
      body: result.stdout.slice(0, newline),
    };
  },
};

const sClient: ClientPeer = {
  name: 'openssl s_client',
  async get(port, path, set, who) {
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', set.caFile];
    args.push('-verify_return_error', '-verify_ip', '127.0.0.1', '-brief', '-ign_eof');
    if (who) args.push('-cert', who.files.cert, '-key', who.files.key);
    if (who?.files.intermediates) args.push('-cert_chain', who.files.intermediates);
    // -ign_eof: s_client reads until the server closes, after its answer.
    const input = `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`;
    const result = await run(requireTool('openssl'), args, { input, timeoutMs: 15_000 });
    const http = parseRawHttp(result.stdout);
    if (!http) return failure(result);
    const version = /Protocol version: (\S+)/.exec(result.stderr)?.[1];
    return { answered: true, ...http, ...(version ? { version } : {}) };
  },
};

const python: ClientPeer = {
  name: 'python ssl',
  async get(port, path, set, who) {
    const args = ['-c', PYTHON_CLIENT, '127.0.0.1', String(port), path, set.caFile];
    if (who) args.push(who.files.chain, who.files.key);
    const result = await run(requireTool('python3'), args, { timeoutMs: 15_000 });
    if (result.code !== 0) return failure(result);
    const answer = JSON.parse(result.stdout) as { status: number; body: string; version: string };
    return { answered: true, status: answer.status, body: answer.body, version: answer.version };
  },
};

/** The Go client needs the binary built by buildGoPeer. */
export function goClient(binary: string): ClientPeer {
  return {
    name: 'go crypto/tls',
    async get(port, path, set, who) {
      const args = ['client', '-url', `https://127.0.0.1:${port}${path}`, '-ca', set.caFile];
      if (who) args.push('-cert', who.files.chain, '-key', who.files.key);
      const result = await run(binary, args, { timeoutMs: 15_000 });
      if (result.code !== 0) return failure(result);
      const answer = JSON.parse(result.stdout) as { status: number; body: string; version: string };
      return { answered: true, status: answer.status, body: answer.body, version: answer.version };
    },
  };
}

/** curl, s_client and Python; add {@link goClient} once built. */
export const CLIENT_PEERS: ClientPeer[] = [curl, sClient, python];
