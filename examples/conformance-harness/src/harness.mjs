// A harness for the public SPIFFE conformance test suite (github.com/arndt-s/spiffe-conformance-test-suite,
// docs/HARNESS_CONTRACT.md, v1) on top of meshless. A thin shim: endpoint discovery, streams, SVID and
// bundle selection and every validation are meshless's.
import { workloadApiSource } from '@meshless/spiffe';
import { startControlPort } from './control-port.mjs';
import { startX509Port } from './x509-port.mjs';

/**
 * @typedef {{ write(text: string): unknown }} Output
 * Starts the harness: a Workload API source found through SPIFFE_ENDPOINT_SOCKET (never configured
 * here), the X.509 port and the control port. Writes the readiness lines to `out`, READY last, once
 * both listen and the first X.509-SVID has arrived.
 * @param {{ out?: Output, log?: Output, startupTimeoutMs?: number }} [options]
 */
export async function startHarness({
  out = process.stdout,
  log = process.stderr,
  startupTimeoutMs = 60_000,
} = {}) {
  const source = await workloadApiSource({ startupTimeoutMs });
  source.on('error', (error) => log.write(`workload-api: ${error.code}: ${error.message}\n`));
  const x509 = await startX509Port(source);
  const control = await startControlPort(source);
  out.write(
    `SPIFFE_HARNESS_VERSION=1\nSPIFFE_X509_PORT=${x509.port}\nSPIFFE_CONTROL_PORT=${control.port}\nREADY\n`,
  );
  return {
    x509Port: x509.port,
    controlPort: control.port,
    async close() {
      for (const server of [x509.server, control.server]) {
        server.closeAllConnections?.();
        await new Promise((resolve) => server.close(resolve));
      }
      await source.close();
    },
  };
}
