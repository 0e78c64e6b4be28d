// The service: a meshless server fed by the watcher on a Kubernetes-style secret volume. Each answer
// names the serial of the certificate the connection was made with, so a rotation can be seen landing.
import { parseArgs } from 'node:util';
import { authorize } from '@meshless/core';
import { createServer } from '@meshless/server';
import { watchCertificateFiles } from '@meshless/watcher';
import { CLIENT_ID } from './identities.mjs';
import { isMain } from './run-directly.mjs';

/**
 * Starts the service on `host:port` (port 0 picks a free one) with the certificate in `dir`
 * (tls.crt, tls.key, ca.crt, as cert-manager writes them). Only `allowedCaller` gets an answer.
 */
export async function startService({ dir, allowedCaller = CLIENT_ID, host = '127.0.0.1', port = 0 }) {
  const source = await watchCertificateFiles({ dir, layout: 'cert-manager' });
  const server = createServer({ source, authorize: authorize.id(allowedCaller) }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ serial: servedSerial(req.socket) }));
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    url: `https://${host}:${server.address().port}`,
    source,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await source.close();
    },
  };
}

// Read once per connection: the certificate of a connection never changes, and building the
// certificate object on every request would cost more than the request.
const serials = new WeakMap();
function servedSerial(socket) {
  if (!serials.has(socket)) serials.set(socket, socket.getX509Certificate()?.serialNumber);
  return serials.get(socket);
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: 'tls' },
      port: { type: 'string', default: '8443' },
      caller: { type: 'string', default: CLIENT_ID },
    },
  });
  const service = await startService({
    dir: values.dir,
    port: Number(values.port),
    allowedCaller: values.caller,
  });
  console.log(`service on ${service.url}, serving ${service.source.current().identity.serialNumber}`);
  service.source.on('update', (material) =>
    console.log(`rotated: now serving ${material.identity.serialNumber}`),
  );
  service.source.on('error', (err) =>
    console.warn(`kept the last good certificate: ${err.code} ${err.message}`),
  );
  process.once('SIGINT', () => void service.close());
}
