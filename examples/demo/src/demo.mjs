// The demo scenario, step by step. Every claim it prints is measured, never assumed; `report`
// collects the facts behind them (the demo's test checks the printed claims against it).

import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFetch } from '@meshless/client';
import { loadMaterial, staticSource } from '@meshless/core';
import { createCa, writeSecretVolume } from '@meshless/pki';
import { watchCertificateFiles } from '@meshless/watcher';
import { startBilling } from '@meshless-examples/express-to-fastify/src/billing.mjs';
import {
  BILLING_ID,
  ORDERS_ID,
  TRUST_DOMAIN,
} from '@meshless-examples/express-to-fastify/src/identities.mjs';
import { startOrders } from '@meshless-examples/express-to-fastify/src/orders.mjs';
import { recordHandshakeFailures } from './handshake-failures.mjs';
import { startLoad } from './load.mjs';
import { out } from './output.mjs';
import { servedSerial, tryConnect } from './probes.mjs';

const FRONTEND_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/frontend`;
const INTRUDER_ID = `spiffe://${TRUST_DOMAIN}/ns/shop/sa/intruder`;

const volumeFiles = (issued) => ({
  'tls.crt': issued.chainPem,
  'tls.key': issued.keyPem,
  'ca.crt': issued.caPem,
});
const materialOf = (issued) => loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem });
const serialOf = (issued) => new X509Certificate(issued.certPem).serialNumber;

/**
 * Runs the demo; resolves with the report of what it measured. With `keep`, the certificates stay
 * in their directory afterwards, with commands to try on them.
 */
export async function runDemo({ keep = false } = {}) {
  const started = performance.now();
  const report = { steps: {} };
  const cleanup = [];
  const dir = await mkdtemp(join(tmpdir(), 'meshless-demo-'));
  try {
    out.title('meshless demo: mesh-grade mTLS between two Node.js services, no sidecar');

    out.step(1, 'A dev CA and workload identities');
    const ca = await createCa({ trustDomain: TRUST_DOMAIN });
    const foreignCa = await createCa({ trustDomain: 'evil.example' });
    const issued = {
      billing: await ca.issue({ spiffeId: BILLING_ID, ipAddresses: ['127.0.0.1'] }),
      orders: await ca.issue({ spiffeId: ORDERS_ID }),
      frontend: await ca.issue({ spiffeId: FRONTEND_ID }),
      intruder: await ca.issue({ spiffeId: INTRUDER_ID }),
      foreigner: await foreignCa.issue({ spiffeId: 'spiffe://evil.example/ns/shop/sa/orders' }),
    };
    const billingDir = join(dir, 'billing-tls');
    const ordersDir = join(dir, 'orders-tls');
    await writeSecretVolume(billingDir, volumeFiles(issued.billing));
    await writeSecretVolume(ordersDir, volumeFiles(issued.orders));
    out.ok(`CA for trust domain ${TRUST_DOMAIN}, identities written as Kubernetes secret volumes in ${dir}`);
    for (const [name, cert] of Object.entries(issued)) out.info(`${name.padEnd(9)} ${cert.spiffeId}`);
    report.steps.identities = {
      dir,
      trustDomain: TRUST_DOMAIN,
      ids: Object.fromEntries(Object.entries(issued).map(([k, v]) => [k, v.spiffeId])),
    };

    out.step(2, 'billing (Fastify) and orders (Express) start with mTLS');
    const billingSource = await watchCertificateFiles({ dir: billingDir, layout: 'cert-manager' });
    cleanup.push(() => billingSource.close());
    const ordersSource = await watchCertificateFiles({ dir: ordersDir, layout: 'cert-manager' });
    cleanup.push(() => ordersSource.close());
    const billing = await startBilling({ source: billingSource, allowedCaller: ORDERS_ID });
    cleanup.push(() => billing.app.close());
    const orders = await startOrders({
      source: ordersSource,
      billingUrl: billing.url,
      billingId: BILLING_ID,
      trustDomain: TRUST_DOMAIN,
    });
    cleanup.push(() => orders.close());
    out.ok(`billing on ${billing.url}: only ${ORDERS_ID} may call it`);
    out.ok(
      `orders on ${orders.url}: any workload of ${TRUST_DOMAIN}; it checks that billing is ${BILLING_ID}`,
    );
    report.steps.start = { billingUrl: billing.url, ordersUrl: orders.url };

    out.step(3, 'frontend → orders → billing');
    const frontend = createFetch({
      source: staticSource(materialOf(issued.frontend)),
      authorizeServer: ORDERS_ID,
    });
    cleanup.push(() => frontend.close());
    const placed = await frontend(`${orders.url}/orders`, { method: 'POST' });
    const order = await placed.json();
    const { caller, tls } = order.billing;
    out.ok(`orders answered ${placed.status}; billing allowed the call from ${caller}`);
    out.info(`over ${tls.version} with ${tls.cipher}; orders saw the caller as ${order.placedBy}`);
    report.steps.allowed = {
      status: placed.status,
      caller,
      placedBy: order.placedBy,
      tlsVersion: tls.version,
      cipher: tls.cipher,
    };

    out.step(4, 'Who is refused, on both sides');
    const failures = recordHandshakeFailures();
    cleanup.push(() => failures.close());
    const intruder = createFetch({
      source: staticSource(materialOf(issued.intruder)),
      authorizeServer: BILLING_ID,
    });
    cleanup.push(() => intruder.close());
    const forbidden = await intruder(`${billing.url}/charges`, { method: 'POST' });
    const forbiddenBody = await forbidden.json();
    out.refused(
      `${INTRUDER_ID} (same CA) → billing: ${forbidden.status} ${forbiddenBody.error} (${forbiddenBody.reason})`,
    );
    const trust = { ca: issued.billing.caPem };
    const noCert = await tryConnect(billing.url, trust);
    noCert.reason = await failures.next();
    out.refused(`a client without a certificate → billing: ${describeRefusal(noCert)}`);
    const foreign = await tryConnect(billing.url, {
      ...trust,
      cert: issued.foreigner.chainPem,
      key: issued.foreigner.keyPem,
    });
    foreign.reason = await failures.next();
    out.refused(`a client from a foreign CA (evil.example) → billing: ${describeRefusal(foreign)}`);
    // The other half of mutual TLS: the client checks the server. frontend expects orders, and is
    // sent to billing, a real server of the same CA with another SPIFFE ID.
    const wrongServer = await refusedByClient(frontend, `${billing.url}/charges`);
    out.refused(
      `frontend expecting ${ORDERS_ID} → billing's address: ${
        wrongServer.refused
          ? `refused by the client before sending a byte (${wrongServer.code}): it presented ${wrongServer.found}`
          : `NOT refused: HTTP ${wrongServer.status}`
      }`,
    );
    report.steps.refused = {
      intruder: { status: forbidden.status, error: forbiddenBody.error },
      noCertificate: noCert,
      foreignCa: foreign,
      wrongServer,
    };

    out.step(5, "Rotating billing's certificate under load (Kubernetes-style atomic swap)");
    const ordersCredentials = {
      cert: issued.orders.chainPem,
      key: issued.orders.keyPem,
      ca: issued.orders.caPem,
    };
    const oldSerial = await servedSerial(billing.url, ordersCredentials);
    const loadClient = createFetch({
      source: staticSource(materialOf(issued.orders)),
      authorizeServer: BILLING_ID,
    });
    cleanup.push(() => loadClient.close());
    const load = startLoad(loadClient, `${billing.url}/charges`);
    await sleep(300);
    const next = await ca.issue({ spiffeId: BILLING_ID, ipAddresses: ['127.0.0.1'] });
    const { swappedAt } = await writeSecretVolume(billingDir, volumeFiles(next));
    let newSerial = oldSerial;
    while (newSerial !== serialOf(next) && performance.now() - swappedAt < 5000) {
      await sleep(10);
      newSerial = await servedSerial(billing.url, ordersCredentials);
    }
    const pickupMs = Math.round(performance.now() - swappedAt);
    await sleep(300);
    const stats = await load.stop();
    if (newSerial === serialOf(next))
      out.ok(`new connections get serial ${newSerial} (was ${oldSerial}), ${pickupMs} ms after the swap`);
    else out.fail(`billing still serves ${newSerial} ${pickupMs} ms after the swap`);
    const failedText = `${stats.made} requests made during the rotation, ${stats.failed} failed`;
    if (stats.failed === 0) out.ok(failedText);
    else out.fail(`${failedText}: ${stats.failures.join(', ')}`);
    report.steps.rotation = {
      oldSerial,
      newSerial,
      expectedSerial: serialOf(next),
      newCertPem: next.certPem,
      pickupMs,
      made: stats.made,
      failed: stats.failed,
      rotations: billingSource.status().rotations,
    };

    out.step(6, 'Clean up');
    report.ok =
      newSerial === serialOf(next) &&
      stats.failed === 0 &&
      forbidden.status === 403 &&
      noCert.refused &&
      foreign.refused &&
      noCert.reason === 'no_certificate' &&
      foreign.reason === 'unknown_ca' &&
      wrongServer.code === 'ERR_MESHLESS_SERVER_UNAUTHORIZED' &&
      placed.status === 201;
    return report;
  } finally {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    if (!keep) await rm(dir, { recursive: true, force: true });
    report.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    out.ok(`servers stopped, ${dir} ${keep ? 'kept' : 'removed'}; ${report.seconds} s in all`);
    if (keep) showKept(dir);
  }
}

// The refusal as the server classified it (meshless's handshake-failure reason), not the bare
// closed connection the raw TLS client saw.
function describeRefusal(result) {
  return result.refused
    ? `refused at the TLS handshake, billing reports ${result.reason}`
    : `NOT refused: HTTP ${result.status}`;
}

/** Calls `url` with a meshless fetch that is expected to refuse the server; reports how. */
async function refusedByClient(fetch, url) {
  try {
    const res = await fetch(url, { method: 'POST' });
    await res.body?.cancel();
    return { refused: false, status: res.status };
  } catch (error) {
    const cause = error.cause ?? error;
    return { refused: true, code: cause.code, found: cause.context?.actual };
  }
}

function showKept(dir) {
  out.info(`billing's and orders' certificates are in ${dir} (Kubernetes secret volume layout); try:`);
  for (const command of [
    `npx meshless inspect ${join(dir, 'billing-tls', 'tls.crt')}`,
    `npx meshless verify --dir ${join(dir, 'billing-tls')}`,
    `npx meshless doctor --dir ${join(dir, 'orders-tls')}`,
    `rm -r ${dir}`,
  ])
    out.info(`  ${command}`);
}
