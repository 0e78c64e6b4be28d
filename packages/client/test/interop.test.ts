// Against an OpenSSL server (openssl s_server), which, unlike Node's, refuses an untrusted client
// certificate with a TLS alert: the alert must reach the caller inside a meshless error.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMeshlessError, memorySource } from '@meshless/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { makeRoot } from '../../../test/support/certs.js';
import { createAgent } from '../src/index.js';
import { causes, makeMesh, rejectionOf, SERVER_ID } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

async function openSslServer(files: { cert: string; key: string; clientCa: string }, extra: string[]) {
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-www',
      '-cert',
      files.cert,
      '-key',
      files.key,
      '-CAfile',
      files.clientCa,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start: ${output}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ACCEPT\s+\S*:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', () => reject(new Error(`openssl s_server exited: ${output}`)));
  });
  return { port, stop: () => child.kill() };
}

describe.skipIf(!hasOpenssl)('interop with openssl s_server', () => {
  it.each([
    ['TLS 1.3', '-tls1_3'],
    ['TLS 1.2', '-tls1_2'],
  ])('reports the alert of a server that does not trust our certificate over %s', async (_name, version) => {
    const mesh = await makeMesh();
    const foreign = await makeRoot({ trustDomain: 'foreign.test' });
    const dir = mkdtempSync(join(tmpdir(), 'meshless-client-'));
    const files = {
      cert: join(dir, 'server.crt'),
      key: join(dir, 'server.key'),
      clientCa: join(dir, 'client-ca.crt'),
    };
    writeFileSync(files.cert, mesh.server.certPem);
    writeFileSync(files.key, mesh.server.keyPem);
    writeFileSync(files.clientCa, foreign.certPem);
    const server = await openSslServer(files, ['-Verify', '1', '-verify_return_error', version]);
    const agent = createAgent({ source: memorySource(mesh.client), authorizeServer: SERVER_ID });
    try {
      const error = await rejectionOf(request(`https://127.0.0.1:${server.port}/`, { dispatcher: agent }));
      const meshless = causes(error).find((e) => isMeshlessError(e));
      expect(isMeshlessError(meshless, 'ERR_MESHLESS_CLIENT_CERT_REJECTED')).toBe(true);
      expect(isMeshlessError(meshless) && meshless.context.alert).toMatch(/unknown_ca|bad_certificate/);
    } finally {
      await agent.destroy();
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('talks to an OpenSSL server that trusts us', async () => {
    const mesh = await makeMesh();
    const dir = mkdtempSync(join(tmpdir(), 'meshless-client-'));
    const files = {
      cert: join(dir, 'server.crt'),
      key: join(dir, 'server.key'),
      clientCa: join(dir, 'client-ca.crt'),
    };
    writeFileSync(files.cert, mesh.server.certPem);
    writeFileSync(files.key, mesh.server.keyPem);
    writeFileSync(files.clientCa, mesh.client.caPem);
    const server = await openSslServer(files, ['-Verify', '1', '-verify_return_error']);
    const agent = createAgent({ source: memorySource(mesh.client), authorizeServer: SERVER_ID });
    try {
      const res = await request(`https://127.0.0.1:${server.port}/`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    } finally {
      await agent.destroy();
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
