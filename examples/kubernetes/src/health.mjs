// A plain-HTTP health endpoint on its own port: the kubelet's probes carry no client certificate,
// so they cannot reach the strict mTLS port (and must not be let through it).
import http from 'node:http';

/** Serves `GET /healthz` on `port`: 200 while the source serves valid material, with what it serves. */
export async function startHealth({ source, port, host = '0.0.0.0' }) {
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    // The watcher keeps serving the last good certificate when an update is bad: still healthy,
    // but say so (status().failing) for whoever looks.
    const { serving, failing, rotations } = source.status();
    const body = JSON.stringify({
      serving: serving?.serialNumber,
      notAfter: serving?.notAfter,
      failing,
      rotations,
    });
    res.writeHead(serving ? 200 : 503, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
