// orders: answers callers of the example.org trust domain, over mutual TLS only.
import { authorize } from '@meshless/core';
import { createServer, peerOf } from '@meshless/server';
import { watchCertificateFiles } from '@meshless/watcher';

// tls.crt, tls.key and ca.crt from `meshless issue`, reloaded whenever they change.
const source = await watchCertificateFiles({ dir: 'orders', layout: 'cert-manager' });

const server = createServer({ source, authorize: authorize.memberOf('example.org') }, (req, res) => {
  // The caller's identity, verified during the TLS handshake.
  const caller = peerOf(req).spiffeId.toString();
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ hello: caller }));
});

const port = Number(process.env.PORT ?? 8443);
server.listen(port, '127.0.0.1', () => {
  console.log(`orders on https://127.0.0.1:${port} as ${source.current().identity.spiffeId}`);
});
