// billing: one meshless server whose mode and authorizer change from stage to stage; its code does not.
import { createServer, peerOf, securityOf } from '@meshless/server';

/** Starts billing on 127.0.0.1 (a free port) with `mode` and `authorize`; resolves with its port. */
export async function startBilling({ source, mode, authorize }) {
  const server = createServer({ source, mode, authorize }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ security: securityOf(req), caller: peerOf(req)?.spiffeId?.toString() ?? null }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
