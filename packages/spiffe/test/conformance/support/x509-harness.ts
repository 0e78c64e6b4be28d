// What the conformance suite observes through a harness, done here in-process on real sockets: a
// meshless server fed by workloadApiSource that writes the verified client's SPIFFE ID (the contract's
// "X.509 port"), a probe that connects to it with a test certificate, and a dial that makes the meshless
// client connect to a test TLS server. Verdicts are strings ("accepted <id>" / "rejected ...") so a
// failing assertion shows what happened.
import https from 'node:https';
import tls from 'node:tls';
import { createFetch } from '@meshless/client';
import { authorize, type PeerIdentity } from '@meshless/core';
import { createServer, peerOf } from '@meshless/server';
import { close, get, listen } from '../../../../../test/support/https-client.js';
import { type WorkloadApiSource, workloadApiSource } from '../../../src/index.js';
import type { TestWorkloadApi } from '../../support/workload-api-server.js';

/** A certificate a test presents: the leaf first, then intermediates, and its key. */
export interface Credential {
  chainPem: string;
  keyPem: string;
}

export interface Harness {
  port: number;
  source: WorkloadApiSource;
  close(): Promise<void>;
}

/** The meshless side: a workloadApiSource on `agent`, and a strict server that authorizes any SPIFFE ID. */
export async function startHarness(agent: TestWorkloadApi): Promise<Harness> {
  const source = await workloadApiSource({
    address: agent.address,
    startupTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  source.on('error', () => {});
  const server = createServer({ source, authorize: authorize.any() }, (req, res) => {
    res.end(`${peerOf(req)?.spiffeId ?? ''}\n`);
  });
  const port = await listen(server);
  return {
    port,
    source,
    close: async () => {
      await close(server);
      await source.close();
    },
  };
}

/** Connects to the harness's port as a client with `credential`, trusting `rootPem` for the server. */
export async function probe(port: number, credential: Credential, rootPem: string): Promise<string> {
  try {
    const answer = await get(port, '/', { cert: credential.chainPem, key: credential.keyPem, ca: rootPem });
    const line = answer.body.trim();
    return answer.status === 200 && line ? `accepted ${line}` : `rejected ${answer.status}`;
  } catch (error) {
    return `rejected ${(error as { code?: string }).code ?? (error as Error).message}`;
  }
}

/** What the harness's port presents, verified against `rootPem` only: its SPIFFE ID and chain length. */
export async function presented(
  port: number,
  credential: Credential,
  rootPem: string,
): Promise<{ uri: string; chain: number }> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      cert: credential.chainPem,
      key: credential.keyPem,
      ca: rootPem,
      checkServerIdentity: () => undefined,
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    socket.on('secureConnect', () => {
      const leaf = socket.getPeerCertificate(true);
      let chain = 0;
      for (let cert = leaf; cert && chain < 10; cert = cert.issuerCertificate) {
        chain++;
        if (cert.issuerCertificate === cert) break;
      }
      resolve({ uri: String(leaf.subjectaltname ?? '').replace(/^URI:/, ''), chain });
      socket.destroy();
    });
  });
}

/** A test TLS server presenting `credential` (it does not ask for a client certificate). */
export async function startPeerServer(
  credential: Credential,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = https.createServer({ cert: credential.chainPem, key: credential.keyPem }, (_req, res) =>
    res.end('ok'),
  );
  const port = await listen(server);
  return { port, close: () => close(server) };
}

/** The meshless client, on `source`, connects to `port`: "accepted <server SPIFFE ID>" or "rejected <code>". */
export async function dial(source: WorkloadApiSource, port: number): Promise<string> {
  let seen: PeerIdentity | undefined;
  const fetch = createFetch({
    source,
    authorizeServer: (peer) => {
      seen = peer;
      return authorize.any()(peer);
    },
  });
  try {
    const response = await fetch(`https://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    await response.text();
    return `accepted ${seen?.spiffeId ?? ''}`;
  } catch (error) {
    let cause: unknown = error;
    while ((cause as { cause?: unknown })?.cause && !(cause as { code?: string }).code) {
      cause = (cause as { cause: unknown }).cause;
    }
    return `rejected ${(cause as { code?: string }).code ?? (cause as Error).message}`;
  } finally {
    await fetch.close();
  }
}
