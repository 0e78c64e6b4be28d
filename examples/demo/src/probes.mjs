// Low-level probes the demo uses to show what a client that does not play by the rules gets.
import tls from 'node:tls';

/**
 * Connects to `url` with the given TLS credentials (or none), sends a request and reports how the
 * server answered: `{ refused: true, code }` when the connection was closed or failed before any
 * HTTP answer, `{ refused: false, status }` otherwise. Bounded by `timeoutMs`.
 */
export function tryConnect(url, { cert, key, ca, timeoutMs = 5000 }) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const socket = tls.connect({
      host: hostname,
      port: Number(port),
      cert,
      key,
      ca,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => done({ refused: true, code: 'TIMEOUT' }), timeoutMs);
    socket.on('secureConnect', () =>
      socket.write(`POST /charges HTTP/1.1\r\nhost: ${hostname}\r\ncontent-length: 0\r\n\r\n`),
    );
    socket.on('data', (chunk) => done({ refused: false, status: Number(String(chunk).split(' ')[1]) }));
    socket.on('error', (error) => done({ refused: true, code: error.code ?? error.message }));
    socket.on('close', () => done({ refused: true, code: 'CLOSED_BY_SERVER' }));
  });
}

/** The serial number of the certificate a server presents to a fresh (never resumed) connection. */
export function servedSerial(url, { cert, key, ca, timeoutMs = 2000 }) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: hostname, port: Number(port), cert, key, ca, checkServerIdentity: () => undefined },
      () => {
        const serial = socket.getPeerX509Certificate()?.serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}
