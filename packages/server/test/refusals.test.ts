// Issue 16, part 3: every refused handshake is reported with the client's address and port and the
// real reason (OpenSSL's verify code, not the ECONNRESET of the socket Node closed), to the
// meshless:handshake-failure channel and to the server's onRefusal, and can be logged in one line.
import diagnostics from 'node:diagnostics_channel';
import type https from 'node:https';
import tls from 'node:tls';
import { authorize, channels, loadMaterial, type MemorySource, memorySource } from '@meshless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot, materialOf, type TestCa } from '../../../test/support/certs.js';
import { createServer, formatRefusal, type HandshakeFailureEvent, logRefusals } from '../src/index.js';
import { close, listen, within } from './helpers.js';

const ORDERS = 'spiffe://example.org/ns/prod/sa/orders';
const HOUR = 3_600_000;
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

let root: TestCa;
let foreigner: Leaf;
let expired: Leaf;
let source: MemorySource;

beforeAll(async () => {
  root = await makeRoot();
  foreigner = await makeLeaf(await makeRoot({ trustDomain: 'evil.org' }), { uris: [ORDERS] });
  expired = await makeLeaf(root, {
    uris: [ORDERS],
    notBefore: new Date(Date.now() - 2 * HOUR),
    notAfter: new Date(Date.now() - HOUR),
  });
  source = memorySource(
    loadMaterial(materialOf(await makeLeaf(root, { uris: ['spiffe://example.org/ns/prod/sa/billing'] }))),
  );
});
afterAll(async () => {
  await source.close();
});

/**
 * Makes a TLS connection that the server should refuse, and resolves with the client's local port
 * once the server has closed it.
 */
function refusedFrom(port: number, client: { cert?: string; key?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...client,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    });
    let localPort = 0;
    socket.once('connect', () => {
      localPort = socket.localPort ?? 0;
    });
    // TLS 1.3: the verdict on our certificate arrives after our side of the handshake; ask something.
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('data', () => reject(new Error('the server answered instead of refusing')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(localPort));
  });
}

const clients = () => ({
  'no certificate': {},
  'a foreign CA': { cert: foreigner.chainPem, key: foreigner.keyPem },
  'an expired certificate': { cert: expired.chainPem, key: expired.keyPem },
});

const expected = {
  'no certificate': { reason: 'no_certificate' },
  'a foreign CA': {
    reason: 'unknown_ca',
    verifyError:
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN)$/,
  },
  'an expired certificate': { reason: 'expired', verifyError: /^CERT_HAS_EXPIRED$/ },
} as const;

/** Waits until `events` holds `count` events (the server reports after the client saw the close). */
async function settled(events: unknown[], count: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (events.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

for (const mode of ['strict', 'permissive'] as const) {
  describe(`a ${mode} server reports every refused handshake`, () => {
    let server: https.Server;
    let port: number;
    const viaOption: HandshakeFailureEvent[] = [];
    beforeAll(async () => {
      server = createServer(
        { source, authorize: authorize.id(ORDERS), mode, onRefusal: (event) => viaOption.push(event) },
        (_req, res) => res.end('ok'),
      );
      port = await listen(server);
    });
    afterAll(async () => {
      await close(server);
    });

    // Permissive mode serves TLS clients without a certificate: nothing to refuse there.
    const cases = (Object.keys(expected) as (keyof typeof expected)[]).filter(
      (name) => mode === 'strict' || name !== 'no certificate',
    );
    for (const name of cases) {
      it(`with the address, port and real reason for ${name}`, async () => {
        const client = clients()[name];
        const published: HandshakeFailureEvent[] = [];
        const onMessage = (message: unknown) => published.push(message as HandshakeFailureEvent);
        diagnostics.subscribe(channels.handshakeFailure, onMessage);
        viaOption.length = 0;
        try {
          const localPort = await within(refusedFrom(port, client), 5000, 'the refusal');
          await settled(published, 1);
          await settled(viaOption, 1);
          expect(published).toHaveLength(1);
          expect(viaOption).toEqual(published);
          const [event] = published as [HandshakeFailureEvent];
          const want = expected[name];
          expect(event.reason).toBe(want.reason);
          expect(event.remoteAddress).toBe('127.0.0.1');
          expect(event.remotePort).toBe(localPort);
          expect(event.error).toBeInstanceOf(Error);
          expect(event.error.code).not.toBe('ECONNRESET');
          expect(event.error.message).not.toMatch(/socket hang up/);
          if ('verifyError' in want) {
            expect(event.verifyError).toMatch(want.verifyError);
            expect(event.error.code).toBe(event.verifyError);
          }
        } finally {
          diagnostics.unsubscribe(channels.handshakeFailure, onMessage);
        }
      });
    }
  });
}

describe('logging refusals in one line', () => {
  it('formatRefusal gives a logfmt line with who, why and the verify code', () => {
    const error = Object.assign(new Error('client certificate did not verify: CERT_HAS_EXPIRED'), {
      code: 'CERT_HAS_EXPIRED',
    });
    expect(
      formatRefusal({
        reason: 'expired',
        error,
        verifyError: 'CERT_HAS_EXPIRED',
        remoteAddress: '10.0.0.7',
        remotePort: 53412,
      }),
    ).toBe(
      'meshless: refused TLS handshake remote=10.0.0.7:53412 reason=expired verify_error=CERT_HAS_EXPIRED error="client certificate did not verify: CERT_HAS_EXPIRED"',
    );
    expect(
      formatRefusal({
        reason: 'timeout',
        error: Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' }),
        remoteAddress: '::1',
        remotePort: 8443,
      }),
    ).toBe(
      'meshless: refused TLS handshake remote=[::1]:8443 reason=timeout code=ERR_TLS_HANDSHAKE_TIMEOUT error="TLS handshake timeout"',
    );
  });

  it('logRefusals writes one line per refused handshake until stopped', async () => {
    const server = createServer({ source, authorize: authorize.any() }, (_req, res) => res.end('ok'));
    const port = await listen(server);
    const lines: string[] = [];
    const stop = logRefusals((line) => lines.push(line));
    try {
      const localPort = await within(
        refusedFrom(port, { cert: foreigner.chainPem, key: foreigner.keyPem }),
        5000,
        'the refusal',
      );
      await settled(lines, 1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^meshless: refused TLS handshake remote=127\\.0\\.0\\.1:${localPort} reason=unknown_ca verify_error=\\w+ error="client certificate did not verify: \\w+"$`,
        ),
      );
      stop();
      await within(refusedFrom(port, {}), 5000, 'the second refusal');
      await new Promise((r) => setTimeout(r, 100));
      expect(lines).toHaveLength(1);
    } finally {
      stop();
      await close(server);
    }
  });

  it('refuses an onRefusal that is not a function', () => {
    expect(() => createServer({ source, authorize: authorize.any(), onRefusal: 'log' as never })).toThrow(
      /onRefusal must be a function/,
    );
  });
});
