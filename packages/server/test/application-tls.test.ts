// Issue 15, point 3: every TLS option the application gives a server applies on every secure
// context meshless builds (the first, and the one after each rotation), or is refused at creation.
import { constants } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type https from 'node:https';
import nodeHttps from 'node:https';
import tls from 'node:tls';
import {
  authorize,
  channels,
  isMeshlessError,
  loadMaterial,
  type MemorySource,
  memorySource,
} from '@meshless/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { opensslCrl } from '../../../test/support/openssl-crl.js';
import {
  attachMeshless,
  type CreateServerOptions,
  createSecureServer,
  createServer,
  meshlessTlsOptions,
} from '../src/index.js';
import { close, get, handshakeError, listen } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const REVOKED = 'spiffe://example.org/ns/prod/sa/revoked';

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let root: TestCa;
let serverBefore: Leaf;
let serverAfter: Leaf;
let orders: Leaf;
let revoked: Leaf;
let crl: string;

beforeAll(async () => {
  root = await makeRoot();
  serverBefore = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/api'] });
  serverAfter = await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/api'] });
  orders = await makeLeaf(root, { uris: [ORDERS] });
  revoked = await makeLeaf(root, { uris: [REVOKED] });
  crl = await opensslCrl(root, [revoked.cert]);
});

const running: Array<{ server: https.Server; source: MemorySource }> = [];
afterEach(async () => {
  for (const { server, source } of running.splice(0)) {
    await close(server);
    await source.close();
  }
});

type Flavour = 'createServer' | 'createSecureServer' | 'meshlessTlsOptions + attachMeshless';

async function start(
  extra: Partial<CreateServerOptions>,
  flavour: Flavour = 'createServer',
): Promise<{ port: number; source: MemorySource }> {
  const source = memorySource(loadMaterial(materialOf(serverBefore)));
  const options = { source, authorize: authorize.any(), ...extra };
  const app = (_req: unknown, res: { end(body: string): void }) => res.end('ok');
  let server: https.Server;
  if (flavour === 'createServer') server = createServer(options, app);
  else if (flavour === 'createSecureServer')
    server = createSecureServer(options, app) as unknown as https.Server;
  else {
    // A framework creates the server: the TLS options go in the one object given to both calls.
    server = nodeHttps.createServer(meshlessTlsOptions(options), app);
    attachMeshless(server, options);
  }
  running.push({ server, source });
  return { port: await listen(server), source };
}

// Rotates to the second server certificate and waits until new handshakes present it.
async function rotate(port: number, source: MemorySource): Promise<void> {
  source.set(loadMaterial(materialOf(serverAfter)));
  const answer = await get(port, '/', as(orders));
  expect(answer.serverSerial).toBe(serverAfter.cert.serialNumber.toUpperCase());
}

// The verify error OpenSSL gave for the next refused client, read on the handshake-failure channel.
async function refusedBecause(port: number, leaf: Leaf): Promise<string | undefined> {
  const channel = diagnostics.channel(channels.handshakeFailure);
  let verifyError: string | undefined;
  const onFailure = (event: unknown) => {
    const { verifyError: seen, error } = event as { verifyError?: string; error?: { code?: string } };
    verifyError ??= seen ?? error?.code;
  };
  channel.subscribe(onFailure);
  try {
    await handshakeError(port, as(leaf));
    for (let i = 0; i < 50 && !verifyError; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    return verifyError;
  } finally {
    channel.unsubscribe(onFailure);
  }
}

const as = (leaf: Leaf, session?: Buffer) => ({
  cert: leaf.chainPem,
  key: leaf.keyPem,
  ca: root.rootPem,
  session,
});

async function resumes(port: number): Promise<boolean> {
  const first = await get(port, '/', as(orders));
  // TLS 1.3 tickets may come after the response; one more round trip gives Node time to deliver one.
  const session = first.session ?? (await get(port, '/', as(orders))).session;
  if (!session) return false;
  return (await get(port, '/', as(orders, session))).resumed;
}

describe('application TLS options across rotations', () => {
  it.each<Flavour>(['createServer', 'createSecureServer', 'meshlessTlsOptions + attachMeshless'])(
    'a crl given to %s still refuses the revoked client after a rotation (CRL from the openssl CLI)',
    async (flavour) => {
      const { port, source } = await start({ crl }, flavour);
      expect((await get(port, '/', as(orders))).status).toBe(200);
      expect(await refusedBecause(port, revoked)).toBe('CERT_REVOKED');
      await rotate(port, source);
      expect((await get(port, '/', as(orders))).status).toBe(200);
      expect(await refusedBecause(port, revoked)).toBe('CERT_REVOKED');
    },
  );

  it('secureOptions SSL_OP_NO_TICKET still applies after a rotation (no resumption)', async () => {
    const { port, source } = await start({ secureOptions: constants.SSL_OP_NO_TICKET });
    expect(await resumes(port)).toBe(false);
    await rotate(port, source);
    expect(await resumes(port)).toBe(false);
  });

  it('without SSL_OP_NO_TICKET the same client resumes after a rotation (the control)', async () => {
    const { port, source } = await start({});
    await rotate(port, source);
    expect(await resumes(port)).toBe(true);
  });

  it("minVersion 'TLSv1.3' overrides the default TLSv1.2 and holds after a rotation", async () => {
    const { port, source } = await start({ minVersion: 'TLSv1.3' });
    const tls12Only = () =>
      new Promise<Error>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port,
          ...as(orders),
          maxVersion: 'TLSv1.2',
          checkServerIdentity: () => undefined,
        });
        socket.once('secureConnect', () => {
          socket.destroy();
          reject(new Error('a TLS 1.2 client was served'));
        });
        socket.once('error', resolve);
      });
    expect((await tls12Only()).message).toMatch(/protocol version|alert/i);
    await rotate(port, source);
    expect((await tls12Only()).message).toMatch(/protocol version|alert/i);
  });
});

describe('createServer and createSecureServer options fail closed', () => {
  const source = () => memorySource(loadMaterial(materialOf(serverBefore)));
  const invalid = (build: () => unknown, message: RegExp) => {
    let thrown: unknown;
    try {
      build();
    } catch (error) {
      thrown = error;
    }
    expect(isMeshlessError(thrown, 'ERR_MESHLESS_INVALID_OPTION'), String(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  };

  it('a misspelled option throws with a suggestion', () => {
    invalid(
      () => createServer({ source: source(), authorize: authorize.any(), closeDenyed: true } as never),
      /^createServer: unknown option "closeDenyed"; did you mean "closeDenied"\?$/,
    );
  });

  it('a string given to authorize says what is expected and what was passed', () => {
    invalid(
      () => createServer({ source: source(), authorize: ORDERS } as never),
      /createServer: authorize must be an authorizer function \(e\.g\. authorize\.id\('spiffe:\/\/\.\.\.'\).*got the string "spiffe:\/\/example\.org\/ns\/prod\/sa\/orders"/,
    );
  });

  it.each([
    ['minVersion', 'TLSv1.1', /minVersion must be 'TLSv1\.2' or 'TLSv1\.3'/],
    ['ciphers', 'ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256', /"ECDHE-RSA-AES128-SHA" is not one/],
    ['sigalgs', 'ECDSA+SHA256:RSA+SHA1', /"RSA\+SHA1" is weak/],
    ['ecdhCurve', 'secp192r1', /"secp192r1" is not/],
    [
      'secureOptions',
      constants.SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION,
      /SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION/,
    ],
    ['crl', 'not a CRL', /OpenSSL refused the TLS options crl/],
    ['SNICallback', () => undefined, /option "SNICallback" is not accepted/],
    ['secureContext', tls.createSecureContext(), /option "secureContext" is not accepted/],
    ['pskCallback', () => null, /option "pskCallback" is not accepted/],
    ['secureProtocol', 'TLSv1_method', /option "secureProtocol" is not accepted/],
    ['rejectUnauthorized', false, /option "rejectUnauthorized" is not accepted/],
    ['ca', root?.rootPem ?? 'x', /option "ca" is not accepted/],
    ['allowHTTP1', true, /unknown option "allowHTTP1"/],
  ])('createServer refuses %s: %s', (key, value, message) => {
    invalid(
      () => createServer({ source: source(), authorize: authorize.any(), [key]: value } as never),
      message,
    );
  });

  it('createSecureServer refuses an HTTP/1.1-only option and a weak version alike', () => {
    const base = { source: source(), authorize: authorize.any() };
    invalid(
      () => createSecureServer({ ...base, requestTimeout: 5 } as never),
      /^createSecureServer: unknown option "requestTimeout"/,
    );
    invalid(() => createSecureServer({ ...base, maxVersion: 'TLSv1' } as never), /maxVersion must be/);
    invalid(
      () => createSecureServer({ ...base, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }),
      /maxVersion must be at least minVersion/,
    );
  });

  it('accepts Node server options, a FIPS-style cipher subset and TLSv1.3 only', async () => {
    const a = createServer({
      source: source(),
      authorize: authorize.any(),
      requestTimeout: 10_000,
      keepAliveTimeout: 1_000,
      noDelay: true,
      ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES256-GCM-SHA384',
      ecdhCurve: 'secp384r1',
      sessionTimeout: 300,
    });
    const b = createSecureServer({
      source: source(),
      authorize: authorize.any(),
      allowHTTP1: false,
      maxSessionMemory: 20,
      minVersion: 'TLSv1.3',
    });
    expect(a.requestTimeout).toBe(10_000);
    a.close();
    b.close();
  });
});
