// The differences between Node lines (OpenSSL 3.0 on Node 20, 3.5 on 22, 24 and 26), over real TLS
// on 127.0.0.1: whatever line runs this file, the alert is read and the best key exchange is used.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLeaf, makeRoot } from '../../../test/support/certs.js';
import { hasPostQuantumKeyExchange, SECURE_ECDH_CURVE, secureTlsDefaults, tlsAlertOf } from '../src/index.js';

type Leaf = Awaited<ReturnType<typeof makeLeaf>>;
let server: Leaf;
let client: Leaf;

beforeAll(async () => {
  const root = await makeRoot();
  server = await makeLeaf(root, { uris: ['spiffe://example.org/server'] });
  client = await makeLeaf(root, { uris: ['spiffe://example.org/client'] });
});

/** A TLS server with meshless's defaults that demands a client certificate; closed after the tests. */
const servers: tls.Server[] = [];
async function listen(options: tls.TlsOptions): Promise<number> {
  const listener = tls.createServer(
    { ...secureTlsDefaults, cert: server.chainPem, key: server.keyPem, ca: server.caPem, ...options },
    (socket) => socket.end('ok'),
  );
  servers.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as AddressInfo).port;
}
afterAll(() => {
  for (const listener of servers) listener.close();
});

/** Connects and resolves with the key exchange group, or rejects with the connection's error. */
async function handshake(port: number, options: tls.ConnectionOptions): Promise<string | undefined> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: server.caPem,
      checkServerIdentity: () => undefined,
      ...options,
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    // TLS 1.3 tells a client of a refusal only on its first read: wait for the server's answer.
    socket.on('data', () => {
      resolve((socket.getEphemeralKeyInfo() as { name?: string }).name);
      socket.destroy();
    });
  });
}

describe('tlsAlertOf', () => {
  it.each([
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'bad_certificate'], // OpenSSL 3.0 (Node 20)
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'bad_certificate'], // OpenSSL 3.5 (Node 22, 24, 26)
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'unknown_ca'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'certificate_required'],
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', 'handshake_failure'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', undefined],
    ['ECONNRESET', undefined],
  ])('reads %s as %s', (code, alert) => {
    expect(tlsAlertOf(Object.assign(new Error(code), { code }))).toBe(alert);
  });

  it('is undefined for values that are not errors with a code', () => {
    expect(tlsAlertOf(undefined)).toBeUndefined();
    expect(tlsAlertOf(null)).toBeUndefined();
    expect(tlsAlertOf({ code: 42 })).toBeUndefined();
  });

  it("reads the alert of a real refusal in this Node line's spelling", async () => {
    // TLS 1.2 and no client certificate: the server aborts the handshake with an alert.
    const port = await listen({ requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' });
    const error = await handshake(port, { maxVersion: 'TLSv1.2' }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(tlsAlertOf(error)).toBe('handshake_failure');
  });
});

describe('key exchange groups', () => {
  const opensslHasMlKem = /^3\.([5-9]|\d{2,})\./.test(process.versions.openssl);

  it('knows which OpenSSL versions have X25519MLKEM768 (3.5 and later)', () => {
    expect(hasPostQuantumKeyExchange()).toBe(opensslHasMlKem);
    expect(['3.0.16', '3.4.1', '3.5.0', '3.5.9', '3.6.0', '4.0.0'].map(hasPostQuantumKeyExchange)).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it('puts the hybrid post-quantum group first where OpenSSL has it, the classic list otherwise', () => {
    expect(secureTlsDefaults.ecdhCurve).toBe(SECURE_ECDH_CURVE);
    expect(SECURE_ECDH_CURVE).toBe(
      opensslHasMlKem ? '*X25519MLKEM768:*X25519:prime256v1:secp384r1' : 'X25519:prime256v1:secp384r1',
    );
  });

  it('serves a client that offers only X25519MLKEM768 where OpenSSL has it', async () => {
    const port = await listen({ requestCert: true, rejectUnauthorized: true });
    const pqOnly = { cert: client.chainPem, key: client.keyPem, ecdhCurve: 'X25519MLKEM768' };
    if (opensslHasMlKem) {
      const group = await handshake(port, pqOnly);
      // Node 22 does not name TLS groups other than ECDH curves; 24 and later do.
      if (group !== undefined) expect(group).toBe('X25519MLKEM768');
    } else {
      // Not tried: on Node 20 a refused group leaves an OpenSSL error behind for a later call.
      expect(SECURE_ECDH_CURVE).not.toContain('MLKEM');
    }
  });

  it('still serves a classic client that offers only X25519', async () => {
    const port = await listen({ requestCert: true, rejectUnauthorized: true });
    const group = await handshake(port, { cert: client.chainPem, key: client.keyPem, ecdhCurve: 'X25519' });
    expect(group).toBe('X25519');
  });

  it('connects with the defaults to a classic server that has only X25519', async () => {
    const port = await listen({ requestCert: true, rejectUnauthorized: true, ecdhCurve: 'X25519' });
    const group = await handshake(port, { ...secureTlsDefaults, cert: client.chainPem, key: client.keyPem });
    expect(group).toBe('X25519');
  });
});
