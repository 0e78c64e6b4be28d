// One startup measurement, in a fresh process (issue 20). The configuration is JSON in argv[2]:
// `{ kind: 'import', module }` times `await import(module)` alone; `{ kind: 'https' | 'meshless',
// certs }` starts a server on 127.0.0.1:0 (the hand-written node:https one, or meshless createServer
// over loadMaterial) and sends it one mTLS request with node:https, timing from the process's start
// (performance.now() counts from it) to the response. Prints one JSON line and exits.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';

interface Config {
  kind: 'import' | 'https' | 'meshless';
  module?: string;
  certs?: {
    ca: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    clientId: string;
  };
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;

async function startServer(certs: NonNullable<Config['certs']>): Promise<Server> {
  const pem = (path: string) => readFileSync(path, 'utf8');
  const handler = (_req: unknown, res: import('node:http').ServerResponse) => res.end('hello\n');
  if (config.kind === 'https') {
    const https = await import('node:https');
    return https.createServer(
      {
        cert: pem(certs.serverCert),
        key: pem(certs.serverKey),
        ca: pem(certs.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      handler,
    );
  }
  const { authorize, loadMaterial, staticSource } = await import('@meshless/core');
  const { createServer } = await import('@meshless/server');
  const source = staticSource(
    loadMaterial({ cert: pem(certs.serverCert), key: pem(certs.serverKey), ca: pem(certs.ca) }),
  );
  return createServer({ source, authorize: authorize.id(certs.clientId) }, handler);
}

async function firstRequest(server: Server, certs: NonNullable<Config['certs']>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const https = await import('node:https');
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        cert: readFileSync(certs.clientCert),
        key: readFileSync(certs.clientKey),
        ca: readFileSync(certs.ca),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
  return status;
}

const begin = performance.now();
if (config.kind === 'import') {
  await import(config.module as string);
  process.stdout.write(`${JSON.stringify({ importMs: performance.now() - begin })}\n`);
} else {
  const certs = config.certs as NonNullable<Config['certs']>;
  const server = await startServer(certs);
  const listening = performance.now();
  const status = await firstRequest(server, certs);
  const served = performance.now();
  server.close();
  process.stdout.write(
    `${JSON.stringify({ status, setupMs: listening - begin, firstResponseMs: served, sinceScriptMs: served - begin })}\n`,
  );
}
