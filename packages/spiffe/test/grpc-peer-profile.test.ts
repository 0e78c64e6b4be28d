import * as grpc from '@grpc/grpc-js';
import { authorize, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyUsage, makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { opensslRefusesKeyOf } from '../../../test/support/openssl-certs.js';
import { grpcServerCredentials } from '../src/index.js';
import { type EchoServer, echoClient, startEcho } from './support/echo-service.js';

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/prod/sa/web`;
const ADMIN = `spiffe://${TD}/ns/prod/sa/admin`;
const { digitalSignature, keyCertSign } = keyUsage;

let root: TestCa;
let otherRoot: TestCa;
let source: MemorySource;
let echo: EchoServer;

beforeAll(async () => {
  root = await makeRoot({ trustDomain: TD });
  otherRoot = await makeRoot({ trustDomain: 'other.org' });
  const server = await makeLeaf(root, { uris: [`spiffe://${TD}/ns/prod/sa/orders`] });
  source = memorySource(loadMaterial({ ...materialOf(server), ca: root.rootPem + otherRoot.rootPem }));
  echo = await startEcho(grpcServerCredentials(source, { authorize: authorize.any() }));
});

afterAll(async () => {
  await echo.close();
  await source.close();
});

async function call(peer: {
  chainPem: string;
  keyPem: string;
}): Promise<{ reply?: { caller?: string }; error?: { code?: number; details?: string } }> {
  try {
    return await callOnce(peer);
  } catch (error) {
    return { error: { details: String(error) } };
  }
}

async function callOnce(peer: { chainPem: string; keyPem: string }) {
  const client = echoClient(
    echo.port,
    grpc.credentials.createSsl(
      Buffer.from(root.rootPem),
      Buffer.from(peer.keyPem),
      Buffer.from(peer.chainPem),
      {
        checkServerIdentity: () => undefined,
      },
    ),
    // grpc-js's own client sends the target as the server name, and Node 26 refuses an IP address there.
    { 'grpc.ssl_target_name_override': 'localhost' },
  );
  try {
    return await client.whoami().then(
      (reply) => ({ reply, error: undefined }),
      (error: grpc.ServiceError) => ({ reply: undefined, error }),
    );
  } finally {
    client.close();
  }
}

describe('gRPC server, client certificates OpenSSL verifies', () => {
  it.each([
    ['a CA leaf', () => makeLeaf(root, { uris: [WEB], isCa: true, keyUsage: digitalSignature }), 'CA'],
    ['a SPIFFE ID without a path', () => makeLeaf(root, { uris: [`spiffe://${TD}`] }), 'no path'],
    ['an RSA-1024 key', () => makeLeaf(root, { uris: [WEB], key: 'rsa-1024' }), 'RSA key of 1024 bits'],
    [
      'another trust domain',
      () => makeLeaf(otherRoot, { uris: ['spiffe://other.org/ns/prod/sa/web'] }),
      'no trust bundle',
    ],
    [
      'an identity minted by a CA:TRUE workload certificate',
      async () => {
        const minter = await makeLeaf(root, {
          uris: [WEB],
          isCa: true,
          keyUsage: digitalSignature | keyCertSign,
        });
        return makeLeaf({ ...minter, chainPem: minter.certPem, rootPem: root.rootPem } as TestCa, {
          uris: [ADMIN],
        });
      },
      'workload certificate',
    ],
  ])('refuses %s with UNAUTHENTICATED', async (_name, make, why) => {
    const control = await call(await makeLeaf(root, { uris: [WEB] }));
    expect(control.reply?.caller).toBe(WEB);
    const peer = await make();
    const { error } = await call(peer);
    if (opensslRefusesKeyOf(peer)) {
      // This line's OpenSSL (3.5, Node 22 and later) refuses the weak key at its default security
      // level: grpc-js cannot even present it, and the server's OpenSSL would refuse it in the handshake.
      expect(error).toBeDefined();
      return;
    }
    expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(error?.details).toContain(why);
  });
});
