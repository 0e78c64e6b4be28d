// A running meshless service for the fault tests: a strict server on 127.0.0.1 fed by a certificate
// source (in memory, or watchCertificateFiles on a secret-volume directory), and a client credential
// that it authorizes. `serving()` asks it, over a fresh TLS connection, which certificate it serves.
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  authorize,
  type CertificateSource,
  type MeshlessError,
  memorySource,
  type TlsMaterial,
} from '@meshless/core';
import { createServer, peerOf } from '@meshless/server';
import { watchCertificateFiles } from '@meshless/watcher';
import { atomicWriterUpdate } from '../../support/atomic-writer.js';
import { makeLeaf, type TestCa } from '../../support/certs.js';
import { close, get } from '../../support/https-client.js';
import type { MaterialFiles } from './bad-inputs.js';

export const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';

export interface Service {
  server: https.Server;
  port: number;
  source: CertificateSource;
  client: { cert: string; key: string; ca: string };
  /** Every `error` the source reported, with when. */
  errors: { error: MeshlessError; at: number }[];
  /** The serial number of the certificate the server presents to a new connection, after a 200 answer. */
  serving(): Promise<string>;
  stop(): Promise<void>;
}

export async function startService(
  root: TestCa,
  from: CertificateSource | TlsMaterial,
  options: { handshakeTimeout?: number } = {},
): Promise<Service> {
  const client = await makeLeaf(root, { uris: [CLIENT_ID] });
  const source: CertificateSource = isSource(from) ? from : memorySource(from);
  const errors: Service['errors'] = [];
  source.on('error', (error) => errors.push({ error, at: performance.now() }));
  const server = createServer(
    { source, authorize: authorize.id(CLIENT_ID), handshakeTimeout: options.handshakeTimeout ?? 5_000 },
    (req, res) => res.end(String(peerOf(req)?.spiffeId)),
  );
  // A backlog above Node's default 511, for the burst of a thousand concurrent handshakes.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const credential = { cert: client.chainPem, key: client.keyPem, ca: root.rootPem };
  return {
    server,
    port,
    source,
    client: credential,
    errors,
    async serving() {
      const answer = await get(port, '/', credential);
      if (answer.status !== 200 || answer.body !== CLIENT_ID) {
        throw new Error(`the service answered ${answer.status} ${answer.body}`);
      }
      return answer.serverSerial;
    },
    async stop() {
      await close(server);
      await source.close();
    },
  };
}

function isSource(value: CertificateSource | TlsMaterial): value is CertificateSource {
  return typeof (value as CertificateSource).current === 'function';
}

/** The three files of a cert-manager secret volume. */
export function secretFiles(files: MaterialFiles): Record<'tls.crt' | 'tls.key' | 'ca.crt', string | Buffer> {
  return { 'tls.crt': files.cert, 'tls.key': files.key, 'ca.crt': files.ca };
}

/**
 * A service whose source is watchCertificateFiles on `dir`, a cert-manager secret volume written the
 * way the kubelet writes it (every update is one atomic swap of all three files).
 */
export async function startWatchedService(
  root: TestCa,
  dir: string,
  initial: MaterialFiles,
  options: { passphrase?: string } = {},
): Promise<Service & { write(files: MaterialFiles): Promise<number> }> {
  await atomicWriterUpdate(dir, secretFiles(initial));
  const source = await watchCertificateFiles({ dir, layout: 'cert-manager', debounceMs: 20, ...options });
  const service = await startService(root, source);
  return {
    ...service,
    /** Swaps the files in; returns the moment just before, to match the events that follow. */
    async write(files) {
      const since = performance.now();
      await atomicWriterUpdate(dir, secretFiles(files));
      return since;
    },
  };
}

/** Waits for the first `error` after `since`; fails naming what was seen instead. */
export async function errorAfter(service: Service, since: number, timeoutMs = 3_000): Promise<MeshlessError> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = service.errors.find((e) => e.at >= since);
    if (found) return found.error;
    if (performance.now() > deadline) throw new Error(`the source reported no error within ${timeoutMs} ms`);
    await sleep(10);
  }
}
