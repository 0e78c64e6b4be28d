// meshless probe against real servers on 127.0.0.1: an `openssl s_server` that demands client
// certificates, meshless servers (strict and permissive), and the failures a user meets: a wrong
// SPIFFE ID, a wrong host name, an untrusted server, a refused client certificate, nothing
// listening, and a server that does not speak TLS.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { Server } from 'node:net';
import net from 'node:net';
import { join } from 'node:path';
import { authorize, loadMaterial, staticSource } from '@meshless/core';
import { createCa, type IssuedCertificate } from '@meshless/pki';
import { createServer } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, listen } from '../../../test/support/https-client.js';
import { ensureBuilt, expectErrorLine, json, meshless, tempDir } from './helpers.js';

const work = tempDir();
const cwd = work.dir;
const SERVER_ID = 'spiffe://example.org/ns/prod/sa/server';
const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Report {
  ok: boolean;
  target: string;
  tls: { version: string; cipher: string; handshakeMs: number; connectMs: number } | null;
  server: { spiffeId: string | null; chain: { subject: string; spiffeId: string | null }[] } | null;
  verification: { by: string; expected: string };
  http: { status: string | null } | null;
  resumption: { resumed: boolean | null; note: string } | null;
  clientCertificate: { presented: string | null; demanded: boolean | null; note: string } | null;
  error: { code: string; message: string } | null;
}

const servers: Server[] = [];
let openssl: ChildProcess | undefined;
const ports: Record<string, number> = {};

function save(name: string, issued: IssuedCertificate): { cert: string; key: string; ca: string } {
  const paths = {
    cert: join(cwd, `${name}.crt`),
    key: join(cwd, `${name}.key`),
    ca: join(cwd, `${name}-ca.crt`),
  };
  writeFileSync(paths.cert, issued.chainPem);
  writeFileSync(paths.key, issued.keyPem, { mode: 0o600 });
  writeFileSync(paths.ca, issued.caPem);
  return paths;
}

async function meshlessServer(issued: IssuedCertificate, mode: 'strict' | 'permissive'): Promise<number> {
  const source = staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem }));
  const server = createServer({ source, authorize: authorize.any(), mode }, (_req, res) =>
    res.end('hello\n'),
  );
  servers.push(server);
  return await listen(server);
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`openssl s_server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let client: { cert: string; key: string; ca: string };
let foreignClient: { cert: string; key: string; ca: string };
let server: { cert: string; key: string; ca: string };

beforeAll(async () => {
  await ensureBuilt();
  const ca = await createCa({ trustDomain: 'example.org' });
  const foreign = await createCa({ trustDomain: 'example.org' });
  const serverCert = await ca.issue({ spiffeId: SERVER_ID, ipAddresses: ['127.0.0.1'] });
  const noIpServerCert = await ca.issue({ spiffeId: SERVER_ID });
  server = save('server', serverCert);
  client = save('client', await ca.issue({ spiffeId: CLIENT_ID }));
  foreignClient = save('foreign-client', await foreign.issue({ spiffeId: CLIENT_ID }));

  ports.strict = await meshlessServer(serverCert, 'strict');
  ports.permissive = await meshlessServer(serverCert, 'permissive');
  ports.noIp = await meshlessServer(noIpServerCert, 'strict');
  const plain = http.createServer((_req, res) => res.end('plaintext\n'));
  servers.push(plain);
  ports.plain = await listen(plain);
  ports.closed = await freePort();

  if (hasOpenssl) {
    ports.openssl = await freePort();
    openssl = spawn(
      'openssl',
      [
        's_server',
        '-Verify',
        '1',
        '-cert',
        server.cert,
        '-key',
        server.key,
        '-CAfile',
        server.ca,
        '-accept',
        `127.0.0.1:${ports.openssl}`,
        '-www',
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(ports.openssl, 10_000);
  }
});

afterAll(async () => {
  openssl?.kill('SIGKILL');
  await Promise.all(servers.map((s) => close(s as Parameters<typeof close>[0])));
  work.remove();
});

async function probe(
  port: number,
  args: string[],
): Promise<{ code: number | null; report: Report; stderr: string }> {
  const result = await meshless(['probe', `https://127.0.0.1:${port}`, '--json', '--timeout', '5s', ...args]);
  return { code: result.code, report: json<Report>(result), stderr: result.stderr };
}

const withClient = () => ['--cert', client.cert, '--key', client.key, '--ca', client.ca];

describe.skipIf(!hasOpenssl)('meshless probe against openssl s_server -Verify 1', () => {
  it('connects with a client certificate and reports version, cipher, chain, identity, timing, resumption and demand', async () => {
    const { code, report, stderr } = await probe(ports.openssl as number, [
      ...withClient(),
      '--expect-id',
      SERVER_ID,
    ]);
    expect(code, stderr).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      tls: { version: 'TLSv1.3', cipher: expect.stringMatching(/^TLS_/) },
      server: { spiffeId: SERVER_ID },
      verification: { by: 'spiffe-id', expected: SERVER_ID },
      http: { status: expect.stringMatching(/^HTTP\/1\.[01] 200/) },
      resumption: { resumed: true },
      clientCertificate: { presented: CLIENT_ID, demanded: true },
      error: null,
    });
    expect(report.server?.chain.map((c) => c.spiffeId)).toEqual([SERVER_ID, 'spiffe://example.org']);
    expect(report.tls?.handshakeMs).toBeGreaterThan(0);
    expect(report.clientCertificate?.note).toContain('CERTIFICATE_REQUIRED');
  });

  it('prints the same as text', async () => {
    const result = await meshless(['probe', `https://127.0.0.1:${ports.openssl}`, ...withClient()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^tls:\s+TLSv1\.3, TLS_/m);
    expect(result.stdout).toMatch(/^handshake:\s+[\d.]+ ms \(TCP connect [\d.]+ ms\)$/m);
    expect(result.stdout).toMatch(/^server id:\s+spiffe:\/\/example\.org\/ns\/prod\/sa\/server$/m);
    expect(result.stdout).toMatch(
      /^server chain:\s+0 "CN=server" spiffe:\/\/example\.org\/ns\/prod\/sa\/server, expires in /m,
    );
    expect(result.stdout).toMatch(
      /^verification:\s+✓ chain verified against .*client-ca\.crt; host name 127\.0\.0\.1 matches$/m,
    );
    expect(result.stdout).toMatch(/^resumption:\s+✓ a second connection resumed the session/m);
    expect(result.stdout).toMatch(/^client cert:\s+✓ demanded: a connection without one was refused/m);
    expect(result.stdout).toContain('✓ connected');
  });

  it('fails with a clear reason without a client certificate', async () => {
    const { code, report, stderr } = await probe(ports.openssl as number, ['--ca', client.ca]);
    expect(code).toBe(1);
    expect(report.error?.code).toBe('ERR_MESHLESS_CLIENT_CERT_REJECTED');
    expect(report.clientCertificate?.demanded).toBe(true);
    expectErrorLine(stderr, 'ERR_MESHLESS_CLIENT_CERT_REJECTED');
    expect(stderr).toContain(
      'the server demands a client certificate (certificate_required alert): pass --cert and --key',
    );
  });
});

describe('meshless probe against a meshless server', () => {
  it('passes with the expected SPIFFE ID, and sees a strict server demand client certificates', async () => {
    const { code, report, stderr } = await probe(ports.strict as number, [
      ...withClient(),
      '--expect-id',
      SERVER_ID,
    ]);
    expect(code, stderr).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      server: { spiffeId: SERVER_ID },
      http: { status: 'HTTP/1.1 200 OK' },
      resumption: { resumed: true },
      clientCertificate: { presented: CLIENT_ID, demanded: true },
    });
  });

  it('fails (exit 1) on another SPIFFE ID, showing the server it reached', async () => {
    const other = 'spiffe://example.org/ns/prod/sa/other';
    const { code, report, stderr } = await probe(ports.strict as number, [
      ...withClient(),
      '--expect-id',
      other,
    ]);
    expect(code).toBe(1);
    expect(report.error).toEqual({
      code: 'ERR_MESHLESS_SERVER_UNAUTHORIZED',
      message: `the server is ${SERVER_ID}, not the expected ${other}`,
    });
    expect(report.server?.spiffeId).toBe(SERVER_ID);
    expectErrorLine(stderr, 'ERR_MESHLESS_SERVER_UNAUTHORIZED');
  });

  it('checks the host name when no --expect-id is given', async () => {
    const byIp = await probe(ports.strict as number, withClient());
    expect(byIp.code, byIp.stderr).toBe(0);
    expect(byIp.report.verification).toEqual({
      by: 'hostname',
      expected: '127.0.0.1',
      trustBundle: client.ca,
    });
    const noIp = await probe(ports.noIp as number, withClient());
    expect(noIp.code).toBe(1);
    expect(noIp.report.error?.code).toBe('ERR_MESHLESS_SERVER_NAME_MISMATCH');
    expect(noIp.stderr).toContain('pass --expect-id');
    const bySpiffe = await probe(ports.noIp as number, [...withClient(), '--expect-id', SERVER_ID]);
    expect(bySpiffe.code, bySpiffe.stderr).toBe(0);
  });

  it('reports a server that does not demand a client certificate as such', async () => {
    const { code, report, stderr } = await probe(ports.permissive as number, [
      ...withClient(),
      '--expect-id',
      SERVER_ID,
    ]);
    expect(code, stderr).toBe(0);
    expect(report.clientCertificate).toMatchObject({ presented: CLIENT_ID, demanded: false });
    expect(report.clientCertificate?.note).toMatch(
      /^not demanded: the server answered a connection without one/,
    );
  });

  it('fails on a server certificate the trust bundle does not vouch for', async () => {
    const { code, report, stderr } = await probe(ports.strict as number, [
      '--cert',
      client.cert,
      '--key',
      client.key,
      '--ca',
      foreignClient.ca,
      '--expect-id',
      SERVER_ID,
    ]);
    expect(code).toBe(1);
    expect(report.error?.code).toBe('ERR_MESHLESS_SERVER_CERT_UNTRUSTED');
    expect(stderr).toContain(`does not verify against the trust bundle ${foreignClient.ca}`);
  });

  it('fails when the server refuses our client certificate', async () => {
    const { code, report, stderr } = await probe(ports.strict as number, [
      '--cert',
      foreignClient.cert,
      '--key',
      foreignClient.key,
      '--ca',
      client.ca,
      '--expect-id',
      SERVER_ID,
    ]);
    expect(code).toBe(1);
    expect(report.error?.code).toBe('ERR_MESHLESS_CLIENT_CERT_REJECTED');
    expectErrorLine(stderr, 'ERR_MESHLESS_CLIENT_CERT_REJECTED');
  });
});

describe('meshless probe failures before TLS', () => {
  it('says nothing listens on a closed port', async () => {
    const { code, report, stderr } = await probe(ports.closed as number, withClient());
    expect(code).toBe(1);
    expect(report.error?.code).toBe('ERR_MESHLESS_CONNECT_FAILED');
    expect(stderr).toContain('connection refused');
  });

  it('says a plaintext server does not speak TLS', async () => {
    const { code, report, stderr } = await probe(ports.plain as number, withClient());
    expect(code).toBe(1);
    expect(report.error?.code).toBe('ERR_MESHLESS_TLS_HANDSHAKE_FAILED');
    expect(report.error?.message).toMatch(/does not speak TLS|closed the connection/);
    expectErrorLine(stderr, 'ERR_MESHLESS_TLS_HANDSHAKE_FAILED');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a key that does not belong to the certificate before connecting', async () => {
    const result = await meshless([
      'probe',
      `https://127.0.0.1:${ports.strict}`,
      '--cert',
      client.cert,
      '--key',
      server.key,
      '--ca',
      client.ca,
    ]);
    expect(result.code).toBe(1);
    expectErrorLine(result.stderr, 'ERR_MESHLESS_KEY_MISMATCH');
  });
});
