// The contract's X.509 port: a TLS server presenting the current default X.509-SVID, requiring a
// client certificate, and writing the client's SPIFFE ID (as meshless extracted it) and a newline
// after a handshake meshless accepted; a refused client gets nothing. Every decision is meshless's:
// the TLS options and the per-connection checks come from @meshless/server.
import tls from 'node:tls';
import { authorize } from '@meshless/core';
import { attachMeshless, meshlessTlsOptions, peerOf } from '@meshless/server';

/** Starts the X.509 port on 127.0.0.1, port 0; resolves with the server and its port. */
export async function startX509Port(source) {
  // Authorization is out of scope for the suite: any authenticated SPIFFE ID is accepted.
  const options = { source, authorize: authorize.any() };
  const server = tls.createServer(meshlessTlsOptions(options));
  attachMeshless(server, options);
  // Registered after meshless's own handler, so meshless has judged the connection first.
  server.on('secureConnection', (socket) => {
    const id = socket.destroyed ? undefined : peerOf(socket)?.spiffeId;
    if (id) socket.end(`${id}\n`);
    else socket.destroy();
  });
  server.on('tlsClientError', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}
