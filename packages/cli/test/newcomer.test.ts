// What a newcomer meets on the CLI's edges (issue 19): verify --dir, probe's serial number and its
// 403 exit code, one failure line (not the same one on stdout and stderr), wording, a missing CA
// directory, and --help and demo pointing at guides that exist.
import { existsSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { join } from 'node:path';
import { authorize, loadMaterial, staticSource } from '@meshless/core';
import { createCa, type IssuedCertificate } from '@meshless/pki';
import { createServer } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { close, listen } from '../../../test/support/https-client.js';
import { ensureBuilt, json, meshless, tempDir } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const SERVER_ID = 'spiffe://example.org/ns/prod/sa/server';
const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';
const servers: Server[] = [];
let issued: IssuedCertificate;
let allowPort: number;
let denyPort: number;

function save(name: string, material: { cert: string; key: string; ca: string }): string[] {
  const paths = {
    cert: join(cwd, `${name}.crt`),
    key: join(cwd, `${name}.key`),
    ca: join(cwd, `${name}-ca.crt`),
  };
  writeFileSync(paths.cert, material.cert);
  writeFileSync(paths.key, material.key, { mode: 0o600 });
  writeFileSync(paths.ca, material.ca);
  return ['--cert', paths.cert, '--key', paths.key, '--ca', paths.ca];
}

async function serve(server: IssuedCertificate, allowed: boolean): Promise<number> {
  const source = staticSource(loadMaterial({ cert: server.chainPem, key: server.keyPem, ca: server.caPem }));
  const policy = allowed ? authorize.any() : authorize.id('spiffe://example.org/ns/prod/sa/nobody');
  const https = createServer({ source, authorize: policy }, (_req, res) => res.end('hello\n'));
  servers.push(https);
  return await listen(https);
}

/** No line of one stream is repeated on the other. */
function expectNoSharedLine(result: { stdout: string; stderr: string }): void {
  const out = new Set(result.stdout.split('\n').filter((l) => l.trim() !== ''));
  expect(result.stderr.split('\n').filter((l) => out.has(l))).toEqual([]);
}

beforeAll(async () => {
  await ensureBuilt();
  const ca = await createCa({ trustDomain: 'example.org' });
  issued = await ca.issue({ spiffeId: SERVER_ID, ipAddresses: ['127.0.0.1'] });
  const client = await ca.issue({ spiffeId: CLIENT_ID });
  save('client', { cert: client.chainPem, key: client.keyPem, ca: client.caPem });
  allowPort = await serve(issued, true);
  denyPort = await serve(issued, false);
  expect(
    (await meshless(['ca', 'create', '--trust-domain', 'example.org', '--out', 'ca'], { cwd })).code,
  ).toBe(0);
  const issue = await meshless(['issue', '--ca', 'ca', '--spiffe-id', CLIENT_ID, '--out', 'web'], { cwd });
  expect(issue.code, issue.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => close(s as Parameters<typeof close>[0])));
  work.remove();
});

const clientArgs = () => [
  '--cert',
  join(cwd, 'client.crt'),
  '--key',
  join(cwd, 'client.key'),
  '--ca',
  join(cwd, 'client-ca.crt'),
];

describe('verify --dir', () => {
  it('verifies a directory the way doctor --dir reads it (exit 0)', async () => {
    const result = await meshless(['verify', '--dir', 'web'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`✓ cert file ${join('web', 'tls.crt')} holds PEM certificates`);
    expect(result.stdout).toContain(`✓ valid: ${CLIENT_ID}`);
  });

  it('fails (exit 1) with the layout problem for a directory without certificate files', async () => {
    const result = await meshless(['verify', '--dir', '.'], { cwd: join(cwd, 'ca') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^meshless: .* holds neither tls\.crt\/tls\.key .* \(ERR_MESHLESS_LAYOUT_UNKNOWN\)\n$/,
    );
  });

  it('is a usage error (exit 2) without --dir or all three files', async () => {
    const result = await meshless(['verify', '--cert', 'web/tls.crt'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('give --dir DIR, or all of --cert, --key and --ca');
  });
});

describe('verify wording', () => {
  it('does not call a leaf without a SPIFFE ID an X509-SVID', async () => {
    const root = await makeRoot();
    const leaf = await makeLeaf(root, { uris: [], dnsNames: ['web.test'] });
    const result = await meshless([
      'verify',
      ...save('dns-only', { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem }),
    ]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).not.toContain('X509-SVID profile');
    expect(result.stdout).toContain(
      '✓ leaf is a workload certificate, not a CA: no SPIFFE ID, so not an X509-SVID: a DNS/IP identity, checked as a plain leaf',
    );
  });

  it('names an expired leaf "leaf certificate", not "cert certificate"', async () => {
    const root = await makeRoot();
    const leaf = await makeLeaf(root, {
      notBefore: new Date(Date.now() - 7_200_000),
      notAfter: new Date(Date.now() - 3_600_000),
    });
    const result = await meshless([
      'verify',
      ...save('expired', { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem }),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /✗ leaf is within its validity period: leaf certificate "[^"]+" expired at /,
    );
    expect(result.stdout + result.stderr).not.toContain('cert certificate');
  });

  it('says which check failed in the stderr line, and prints no line twice', async () => {
    const root = await makeRoot();
    const [one, two] = await Promise.all([makeLeaf(root), makeLeaf(root)]);
    const result = await meshless([
      'verify',
      ...save('mismatch', { cert: one.chainPem, key: two.keyPem, ca: one.caPem }),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'meshless: the material is invalid: failed check "key belongs to the leaf certificate" (ERR_MESHLESS_KEY_MISMATCH)\n',
    );
    expectNoSharedLine(result);
  });
});

describe('usage errors', () => {
  it('puts commander\'s suggestion in parentheses: no "?;"', async () => {
    const result = await meshless(['issue', '--ca', 'ca', '--spiffe-id', CLIENT_ID, '--dnss', 'x'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "meshless: unknown option '--dnss' (did you mean --dns?); see 'meshless issue --help' (ERR_MESHLESS_USAGE)\n",
    );
  });

  it('explains a missing CA directory instead of leaking a raw ENOENT', async () => {
    const result = await meshless(['issue', '--ca', 'no-such-ca', '--spiffe-id', CLIENT_ID, '--out', 'x'], {
      cwd,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/ENOENT: no such file or directory, open/);
    expect(result.stderr).toContain(
      'cannot read no-such-ca/ca.crt: no such file or directory (ENOENT); is no-such-ca a CA directory, as `meshless ca create --out no-such-ca` makes?',
    );
  });
});

describe('probe', () => {
  it('prints the server certificate serial number, in text and in --json', async () => {
    const url = `https://127.0.0.1:${allowPort}`;
    const text = await meshless(['probe', url, ...clientArgs(), '--expect-id', SERVER_ID]);
    expect(text.code, text.stderr).toBe(0);
    const serial = new (await import('node:crypto')).X509Certificate(issued.certPem).serialNumber;
    expect(text.stdout).toMatch(new RegExp(`^server cert: +serial ${serial}, SHA-256 `, 'm'));
    const doc = json<{ server: { serialNumber: string; chain: { serialNumber: string }[] } }>(
      await meshless(['probe', url, ...clientArgs(), '--expect-id', SERVER_ID, '--json']),
    );
    expect(doc.server.serialNumber).toBe(serial);
    expect(doc.server.chain[0]?.serialNumber).toBe(serial);
  });

  it('exits 3 on an HTTP 403: authenticated but not authorized, said once', async () => {
    const result = await meshless([
      'probe',
      `https://127.0.0.1:${denyPort}`,
      ...clientArgs(),
      '--expect-id',
      SERVER_ID,
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('✗ connected and authenticated, but not authorized (HTTP 403)');
    expect(result.stderr).toMatch(
      /^meshless: authenticated but not authorized: .*\(HTTP 403\) \(exit 3\)\n$/,
    );
    expectNoSharedLine(result);
    const doc = await meshless([
      'probe',
      `https://127.0.0.1:${denyPort}`,
      ...clientArgs(),
      '--expect-id',
      SERVER_ID,
      '--json',
    ]);
    expect(doc.code).toBe(3);
    expect(json<{ http: { status: string } }>(doc).http.status).toMatch(/ 403 /);
  });

  it("prints a failure's reason once: on stderr, with only the mark and code on stdout", async () => {
    // No client certificate: the strict server refuses the handshake.
    const result = await meshless([
      'probe',
      `https://127.0.0.1:${allowPort}`,
      '--ca',
      join(cwd, 'client-ca.crt'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ probe failed (ERR_MESHLESS_CLIENT_CERT_REJECTED)');
    expect(result.stderr).toMatch(
      /^meshless: the server demands a client certificate .*\(ERR_MESHLESS_CLIENT_CERT_REJECTED\)\n$/,
    );
    expectNoSharedLine(result);
  });
});

describe('entry points', () => {
  it('--help ends with the absolute path of a CLI guide that exists', async () => {
    const result = await meshless(['--help'], { cwd });
    const path = /Documentation: (\S+)\s*$/.exec(result.stdout)?.[1];
    expect(path, result.stdout).toBeDefined();
    expect(path?.startsWith('/')).toBe(true);
    expect(existsSync(path as string)).toBe(true);
  });
});
