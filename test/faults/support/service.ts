// A running meshless service for the fault tests: a strict server on 127.0.0.1 whose certificate
// comes from a MemorySource, and a client credential that it authorizes. `serving()` asks it, over a
// fresh TLS connection, which certificate it serves.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  authorize,
  loadMaterial,
  type MemorySource,
  type MeshlessError,
  memorySource,
  type TlsMaterial,
} from '@meshless/core';
import { createServer, peerOf } from '@meshless/server';
import { makeLeaf, type TestCa } from '../../support/certs.js';
import { close, get } from '../../support/https-client.js';
import type { MaterialFiles } from './bad-inputs.js';

export const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';

export interface Service {
  server: https.Server;
  port: number;
  source: MemorySource;
  client: { cert: string; key: string; ca: string };
  /** Every `error` the source reported. */
  errors: MeshlessError[];
  /** The serial number of the certificate the server presents to a new connection, after a 200 answer. */
  serving(): Promise<string>;
  stop(): Promise<void>;
}

export async function startService(
  root: TestCa,
  initial: TlsMaterial,
  options: { handshakeTimeout?: number } = {},
): Promise<Service> {
  const client = await makeLeaf(root, { uris: [CLIENT_ID] });
  const source = memorySource(initial);
  const errors: MeshlessError[] = [];
  source.on('error', (error) => errors.push(error));
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

/** Writes the three files as a cert-manager secret (tls.crt, tls.key, ca.crt) into `dir`; returns their paths. */
export async function writeMaterialFiles(
  dir: string,
  files: MaterialFiles,
): Promise<MaterialFiles & { paths: { cert: string; key: string; ca: string } }> {
  await mkdir(dir, { recursive: true });
  const paths = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
  await writeFile(paths.cert, files.cert);
  await writeFile(paths.key, files.key, { mode: 0o600 });
  await writeFile(paths.ca, files.ca);
  return { ...files, paths };
}

/** Reads the files back, as a service would, and loads them with their paths named. */
export async function loadFromFiles(
  paths: { cert: string; key: string; ca: string },
  passphrase?: string,
): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([readFile(paths.cert), readFile(paths.key), readFile(paths.ca)]);
  return loadMaterial({ cert, key, ca, files: paths, ...(passphrase ? { passphrase } : {}) });
}
