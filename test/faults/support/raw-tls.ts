// Hand-made TLS records for hostile-client tests: ClientHellos for protocol versions and cipher
// suites that Node's own TLS client refuses to send (SSLv3, RC4), and the parsing of a TLS alert.
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export const VERSIONS = { SSLv3: 0x0300, 'TLSv1.0': 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303 } as const;

/** Cipher suite code points (IANA). */
export const SUITES = {
  RC4_128_SHA: 0x0005,
  RC4_128_MD5: 0x0004,
  DES_CBC3_SHA: 0x000a,
  ECDHE_RSA_DES_CBC3_SHA: 0xc012,
  AES128_SHA: 0x002f,
  AES128_GCM_SHA256: 0x009c,
  ECDHE_RSA_AES128_SHA: 0xc013,
  ECDHE_ECDSA_AES128_SHA: 0xc009,
  ECDHE_RSA_AES128_GCM_SHA256: 0xc02f,
  ECDHE_ECDSA_AES128_GCM_SHA256: 0xc02b,
} as const;

const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vector16 = (data: Buffer) => Buffer.concat([u16(data.length), data]);
const extension = (type: number, data: Buffer) => Buffer.concat([u16(type), vector16(data)]);

/** The extensions an ECDHE ClientHello needs: curves, point formats, signature algorithms. */
function ecdheExtensions(): Buffer {
  const groups = extension(0x000a, vector16(Buffer.concat([u16(0x001d), u16(0x0017), u16(0x0018)])));
  const pointFormats = extension(0x000b, Buffer.concat([u8(1), u8(0)]));
  const sigAlgs = [0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201, 0x0203];
  const signatureAlgorithms = extension(0x000d, vector16(Buffer.concat(sigAlgs.map(u16))));
  return Buffer.concat([groups, pointFormats, signatureAlgorithms]);
}

/**
 * A complete ClientHello record offering `version` (as the highest version, in a TLS 1.0 record
 * header as real clients send it) and exactly `suites`.
 */
export function clientHello(version: number, suites: number[]): Buffer {
  const extensions = version >= VERSIONS['TLSv1.0'] ? vector16(ecdheExtensions()) : Buffer.alloc(0);
  const body = Buffer.concat([
    u16(version),
    randomBytes(32),
    u8(0), // no session id
    vector16(Buffer.concat(suites.map(u16))),
    Buffer.from([1, 0]), // compression: null only
    extensions,
  ]);
  const handshake = Buffer.concat([u8(1), u24(body.length), body]);
  return Buffer.concat([u8(0x16), u16(Math.min(version, VERSIONS['TLSv1.0'])), vector16(handshake)]);
}

/** TLS alert descriptions the tests expect. */
export const ALERTS = { handshake_failure: 40, protocol_version: 70, insufficient_security: 71 } as const;

/** What the server sent back before it closed: its bytes, and the alert they hold, if any. */
export interface RawOutcome {
  bytes: Buffer;
  alert?: number;
  /** Milliseconds from connecting to the server closing the connection. */
  closedAfterMs: number;
}

/**
 * Connects to 127.0.0.1:`port`, writes `data` (or nothing), and collects what comes back until the
 * server closes, or rejects after `timeoutMs`. `hangUpAfterWrite` closes our side right after writing,
 * `hangUpOnReply` as soon as the server's first bytes arrive.
 */
export async function sendRaw(
  port: number,
  data: Buffer | undefined,
  options: { timeoutMs?: number; hangUpAfterWrite?: boolean; hangUpOnReply?: boolean } = {},
): Promise<RawOutcome> {
  return await new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      if (data) socket.write(data);
      if (data && options.hangUpAfterWrite) socket.write(Buffer.alloc(0), () => socket.destroy());
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (options.hangUpOnReply) socket.destroy();
    });
    socket.on('error', () => {
      // a reset is one way of closing
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const bytes = Buffer.concat(chunks);
      const alert = bytes[0] === 0x15 && bytes.length >= 7 ? bytes[6] : undefined;
      resolve({
        bytes,
        closedAfterMs: performance.now() - started,
        ...(alert !== undefined ? { alert } : {}),
      });
    });
  });
}
