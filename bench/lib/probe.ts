// What a TLS server negotiates with a default Node client: protocol, cipher and key exchange group.
// Recorded with the numbers, because a different cipher or curve would change CPU per request or
// per handshake and would have to be explained, not mistaken for the library's cost.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { CertFiles } from './certs.js';

export interface Negotiated {
  protocol: string | null;
  cipher: string | undefined;
  group: string | undefined;
}

export function probeTls(port: number, certs: CertFiles): Promise<Negotiated> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
      ca: readFileSync(certs.ca),
    });
    socket.once('secureConnect', () => {
      const key = socket.getEphemeralKeyInfo();
      resolve({
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name,
        group: key && 'name' in key ? key.name : undefined,
      });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
