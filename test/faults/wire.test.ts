// Hostile and broken clients on the wire, table-driven: each is refused before any HTTP, for the
// reason meshless reports on `meshless:handshake-failure` (with the OpenSSL or Node error code it
// carries), within the handshake timeout at the latest, and the service keeps serving. Then a
// thousand concurrent handshakes all succeed.
import { execFileSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import tls from 'node:tls';
import { channels, loadMaterial } from '@meshless/core';
import type { HandshakeFailureReason } from '@meshless/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, type TestCa } from '../support/certs.js';
import { handshakeError, within } from '../support/https-client.js';
import { ALERTS, clientHello, type RawOutcome, SUITES, sendRaw, VERSIONS } from './support/raw-tls.js';
import { CLIENT_ID, type Service, startService } from './support/service.js';

const HANDSHAKE_TIMEOUT_MS = 1_000;
const HOUR = 3_600_000;

interface Failure {
  reason: HandshakeFailureReason;
  code: string;
}

const failures: Failure[] = [];
const onFailure = (message: unknown) => {
  const { reason, error } = message as { reason: HandshakeFailureReason; error: Error & { code?: string } };
  failures.push({ reason, code: String(error?.code) });
};

let root: TestCa;
/** An RSA-2048 server: so that refusing RSA key exchange and ECDHE-RSA CBC suites means something. */
let rsa: Service;
/** An ECDSA P-256 server, for the concurrent handshakes. */
let ec: Service;

beforeAll(async () => {
  root = await makeRoot();
  const [rsaLeaf, ecLeaf] = await Promise.all([
    makeLeaf(root, { key: 'rsa-2048', uris: ['spiffe://example.org/ns/prod/sa/server'] }),
    makeLeaf(root, { key: 'ec-p256', uris: ['spiffe://example.org/ns/prod/sa/server'] }),
  ]);
  const material = (leaf: typeof rsaLeaf) =>
    loadMaterial({ cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem });
  rsa = await startService(root, material(rsaLeaf), { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  ec = await startService(root, material(ecLeaf), { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  diagnostics.subscribe(channels.handshakeFailure, onFailure);
});

afterAll(async () => {
  diagnostics.unsubscribe(channels.handshakeFailure, onFailure);
  await rsa?.stop();
  await ec?.stop();
});

/** Waits until a handshake failure after `mark` has been published, and returns it. */
async function failureAfter(mark: number): Promise<Failure> {
  const deadline = Date.now() + 3_000;
  while (failures.length <= mark) {
    if (Date.now() > deadline) throw new Error('no meshless:handshake-failure was published');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return failures[mark] as Failure;
}

const hello = (version: number, ...suites: number[]) => clientHello(version, suites);
const modern = () => hello(VERSIONS['TLSv1.2'], SUITES.ECDHE_RSA_AES128_GCM_SHA256);

/** Connects with Node's TLS client pinned to an old protocol version, presenting a valid certificate. */
async function oldClient(
  port: number,
  version: 'TLSv1' | 'TLSv1.1',
  service: Service,
): Promise<Error & { code?: string }> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      minVersion: version,
      maxVersion: version,
      ciphers: 'DEFAULT@SECLEVEL=0', // let OpenSSL 3 send a TLS 1.0/1.1 ClientHello at all
      ca: root.rootPem,
      cert: service.client.cert,
      key: service.client.key,
      checkServerIdentity: () => undefined,
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('timed out')));
    socket.on('secureConnect', () => {
      socket.destroy();
      reject(new Error(`a ${version} handshake succeeded`));
    });
    socket.on('error', resolve);
  });
}

type Expect = (outcome: RawOutcome) => void;
const noBytes: Expect = (o) => expect(o.bytes.length, 'bytes sent back').toBe(0);
const alert =
  (description: number): Expect =>
  (o) => {
    expect(o.alert, `alert in ${o.bytes.toString('hex')}`).toBe(description);
    expect(o.closedAfterMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS);
  };
const closedByTimeout: Expect = (o) => {
  expect(o.closedAfterMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
  expect(o.closedAfterMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 1_500);
};
const raw =
  (data: () => Buffer | undefined, expectation: Expect, options: Parameters<typeof sendRaw>[2] = {}) =>
  async (service: Service) =>
    expectation(await sendRaw(service.port, data(), options));

interface WireFault {
  name: string;
  reason: HandshakeFailureReason;
  /** The code of the error on `meshless:handshake-failure` (OpenSSL's, or Node's). */
  code: string;
  attack(service: Service): Promise<void>;
}

const WIRE_FAULTS: WireFault[] = [
  {
    name: 'plaintext HTTP to a strict port',
    reason: 'protocol',
    code: 'ERR_SSL_HTTP_REQUEST',
    attack: raw(() => Buffer.from('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'), noBytes),
  },
  {
    name: 'a plaintext HTTP/2 preface (h2c prior knowledge)',
    reason: 'protocol',
    code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    attack: raw(() => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), noBytes),
  },
  {
    name: 'garbage bytes',
    reason: 'protocol',
    code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    attack: raw(() => Buffer.from('\u0000\u0001 not TLS at all '.repeat(64)), noBytes),
  },
  {
    name: 'an SSLv3 ClientHello (3DES, RC4)',
    reason: 'protocol',
    code: 'ERR_SSL_VERSION_TOO_LOW',
    attack: raw(
      () => hello(VERSIONS.SSLv3, SUITES.DES_CBC3_SHA, SUITES.RC4_128_SHA),
      alert(ALERTS.handshake_failure),
    ),
  },
  {
    name: 'a TLS 1.0 ClientHello',
    reason: 'protocol',
    code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    attack: raw(
      () => hello(VERSIONS['TLSv1.0'], SUITES.ECDHE_RSA_AES128_SHA),
      alert(ALERTS.protocol_version),
    ),
  },
  {
    name: 'a TLS 1.1 ClientHello',
    reason: 'protocol',
    code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    attack: raw(
      () => hello(VERSIONS['TLSv1.1'], SUITES.ECDHE_RSA_AES128_SHA),
      alert(ALERTS.protocol_version),
    ),
  },
  {
    name: 'a TLS 1.0 client with a valid certificate (Node)',
    reason: 'protocol',
    code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    attack: async (service) =>
      expect((await oldClient(service.port, 'TLSv1', service)).code).toBe(
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      ),
  },
  {
    name: 'a TLS 1.1 client with a valid certificate (Node)',
    reason: 'protocol',
    code: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    attack: async (service) =>
      expect((await oldClient(service.port, 'TLSv1.1', service)).code).toBe(
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      ),
  },
  {
    name: 'a TLS 1.2 client offering only RC4',
    reason: 'protocol',
    code: 'ERR_SSL_NO_SHARED_CIPHER',
    attack: raw(
      () => hello(VERSIONS['TLSv1.2'], SUITES.RC4_128_SHA, SUITES.RC4_128_MD5),
      alert(ALERTS.handshake_failure),
    ),
  },
  {
    name: 'a TLS 1.2 client offering only 3DES',
    reason: 'protocol',
    code: 'ERR_SSL_NO_SHARED_CIPHER',
    attack: raw(
      () => hello(VERSIONS['TLSv1.2'], SUITES.DES_CBC3_SHA, SUITES.ECDHE_RSA_DES_CBC3_SHA),
      alert(ALERTS.handshake_failure),
    ),
  },
  {
    name: 'a TLS 1.2 client offering only CBC suites',
    reason: 'protocol',
    code: 'ERR_SSL_NO_SHARED_CIPHER',
    attack: raw(
      () =>
        hello(
          VERSIONS['TLSv1.2'],
          SUITES.ECDHE_RSA_AES128_SHA,
          SUITES.ECDHE_ECDSA_AES128_SHA,
          SUITES.AES128_SHA,
        ),
      alert(ALERTS.handshake_failure),
    ),
  },
  {
    name: 'a TLS 1.2 client offering only RSA key exchange (no forward secrecy)',
    reason: 'protocol',
    code: 'ERR_SSL_NO_SHARED_CIPHER',
    attack: raw(() => hello(VERSIONS['TLSv1.2'], SUITES.AES128_GCM_SHA256), alert(ALERTS.handshake_failure)),
  },
  {
    name: 'a client that connects and says nothing',
    reason: 'timeout',
    code: 'ERR_TLS_HANDSHAKE_TIMEOUT',
    attack: raw(() => undefined, closedByTimeout),
  },
  {
    name: 'a client that stalls halfway through its ClientHello',
    reason: 'timeout',
    code: 'ERR_TLS_HANDSHAKE_TIMEOUT',
    attack: raw(() => modern().subarray(0, 40), closedByTimeout),
  },
  {
    name: 'a client that stalls after the server’s first flight',
    reason: 'timeout',
    code: 'ERR_TLS_HANDSHAKE_TIMEOUT',
    attack: raw(modern, (o) => {
      expect(o.bytes[0], 'a ServerHello record').toBe(0x16);
      closedByTimeout(o);
    }),
  },
  {
    name: 'a client that disconnects halfway through its ClientHello',
    reason: 'protocol',
    code: 'ECONNRESET',
    attack: raw(() => modern().subarray(0, 40), noBytes, { hangUpAfterWrite: true }),
  },
  {
    name: 'a client that disconnects on the ServerHello',
    reason: 'protocol',
    code: 'ECONNRESET',
    attack: raw(modern, (o) => expect(o.bytes[0]).toBe(0x16), { hangUpOnReply: true }),
  },
  {
    name: 'a client certificate from a foreign CA',
    reason: 'unknown_ca',
    code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    attack: async (service) => {
      const foreign = await makeLeaf(await makeRoot({ trustDomain: 'evil.org' }), { uris: [CLIENT_ID] });
      await handshakeError(service.port, { cert: foreign.chainPem, key: foreign.keyPem, ca: root.rootPem });
    },
  },
  {
    name: 'an expired client certificate',
    reason: 'expired',
    code: 'CERT_HAS_EXPIRED',
    attack: async (service) => {
      const expired = await makeLeaf(root, {
        uris: [CLIENT_ID],
        notBefore: new Date(Date.now() - 2 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      });
      await handshakeError(service.port, { cert: expired.chainPem, key: expired.keyPem, ca: root.rootPem });
    },
  },
];

describe('a hostile client is refused before any HTTP, and the service keeps serving', () => {
  it.each(WIRE_FAULTS)('$name: $reason ($code)', async ({ attack, reason, code }) => {
    const before = await rsa.serving();
    const mark = failures.length;
    await within(attack(rsa), 5_000, 'the attack to end');
    expect(await failureAfter(mark)).toEqual({ reason, code });
    expect(await rsa.serving()).toBe(before);
  });
});

/**
 * One full mutual TLS handshake and one HTTP/1.1 request over node:tls, with a client context made
 * once (building a context per connection would measure PEM parsing, not handshakes).
 */
async function handshakeAndGet(
  port: number,
  context: tls.SecureContext,
): Promise<{ head: string; resumed: boolean }> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      secureContext: context,
      checkServerIdentity: () => undefined,
    });
    let response = '';
    let resumed = false;
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
    socket.on('secureConnect', () => {
      resumed = socket.isSessionReused();
      socket.end('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    socket.on('end', () => resolve({ head: response.split('\r\n')[0] ?? '', resumed }));
    socket.on('error', reject);
  });
}

describe('a thousand concurrent handshakes', () => {
  it('all complete with mutual TLS and a 200, and the service keeps serving', async () => {
    // 1,000 client and 1,000 server sockets live in this process at once.
    const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    if (Number.isFinite(limit) && limit < 2_500) {
      throw new Error(
        `open file limit ${limit} is too low for 1,000 concurrent connections: raise ulimit -n to 4096`,
      );
    }
    const context = tls.createSecureContext({ cert: ec.client.cert, key: ec.client.key, ca: ec.client.ca });
    const mark = failures.length;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 1_000 }, () => handshakeAndGet(ec.port, context)));
    const elapsedMs = performance.now() - started;
    expect(results.filter((r) => r.head !== 'HTTP/1.1 200 OK')).toEqual([]);
    expect(results.filter((r) => r.resumed)).toEqual([]);
    expect(failures.slice(mark)).toEqual([]);
    expect(elapsedMs).toBeLessThan(20_000);
    console.info(`1,000 concurrent ECDSA P-256 mutual TLS handshakes in ${Math.round(elapsedMs)} ms`);
    await ec.serving();
  }, 30_000);
});
