import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFetch } from '@meshless/client';
import { loadMaterial, staticSource } from '@meshless/core';
import { createCa, writeSecretVolume } from '@meshless/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../src/app.mjs';
import { configFromEnv } from '../src/app-config.mjs';
import { envOf, index, loadManifests } from '../src/manifests.mjs';

// Runs the two Deployments as their pods would run, from the manifests alone: each volume is
// written where the Deployment mounts it, with the keys cert-manager (the Certificate's secret) or
// trust-manager (the Bundle's ConfigMap) would put in it, the way the kubelet writes volumes; the
// app starts from the Deployment's env, with paths under a temporary root standing for the pod's
// file system. Then orders calls billing over mTLS, and a renewal is picked up.

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
type K8s = any;
type App = Awaited<ReturnType<typeof startApp>>;
let root: string;
let ca: Awaited<ReturnType<typeof createCa>>;
let manifests: ReturnType<typeof index>;
const apps: Record<string, App> = {};

/** What cert-manager or trust-manager would put in the volume behind `mount`. */
async function volumeFiles(deployment: K8s, mount: K8s): Promise<Record<string, string>> {
  const namespace = manifests.namespaceOf(deployment);
  const volume = deployment.spec.template.spec.volumes.find((v: K8s) => v.name === mount.name);
  if (volume.secret) {
    const certificate = manifests.certificateWriting(volume.secret.secretName, namespace);
    const issued = await ca.issue({ spiffeId: certificate.spec.uris[0] });
    return { 'tls.crt': issued.chainPem, 'tls.key': issued.keyPem, 'ca.crt': issued.caPem };
  }
  const bundle = manifests.named('Bundle', volume.configMap.name);
  return { [bundle.spec.target.configMap.key]: ca.caPem };
}

async function startPod(name: string, overrides: Record<string, string>): Promise<App> {
  const deployment = manifests.named('Deployment', name, 'shop');
  const [container] = deployment.spec.template.spec.containers;
  const podRoot = join(root, name);
  for (const mount of container.volumeMounts)
    await writeSecretVolume(join(podRoot, mount.mountPath), await volumeFiles(deployment, mount));
  const env = Object.fromEntries(
    Object.entries(envOf(container)).map(([k, v]) => [k, v.startsWith('/') ? join(podRoot, v) : v]),
  );
  const app = await startApp(configFromEnv({ ...env, PORT: '0', HEALTH_PORT: '0', ...overrides }), {
    host: '127.0.0.1',
    log: { info: () => {}, warn: () => {} } as unknown as Console,
  });
  apps[name] = app;
  return app;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'meshless-k8s-'));
  manifests = index(await loadManifests());
  ca = await createCa({ trustDomain: 'example.org' }); // stands for example-org-root
  const billing = await startPod('billing', {});
  // Cluster DNS would resolve billing.shop.svc.cluster.local to the Service; here it is billing's port.
  await startPod('orders', { BILLING_URL: billing.url });
});

afterAll(async () => {
  for (const app of Object.values(apps)) await app.close();
  await rm(root, { recursive: true, force: true });
});

describe('example: kubernetes pods, from the manifests', () => {
  it('each app serves the SPIFFE ID of its Certificate', () => {
    for (const name of ['orders', 'billing']) {
      const certificate = manifests.named('Certificate', name, 'shop');
      expect(String(apps[name]!.source.current().identity.spiffeId)).toBe(certificate.spec.uris[0]);
    }
  });

  it('a workload of the trust domain places an order; orders calls billing over mTLS', async () => {
    const issued = await ca.issue({ spiffeId: 'spiffe://example.org/ns/shop/sa/frontend' });
    const frontend = createFetch({
      source: staticSource(loadMaterial({ cert: issued.chainPem, key: issued.keyPem, ca: issued.caPem })),
      authorizeServer: 'spiffe://example.org/ns/shop/sa/orders',
    });
    try {
      const answer = await frontend(`${apps.orders!.url}/orders`, { method: 'POST' });
      expect(answer.status).toBe(201);
      const body = (await answer.json()) as K8s;
      expect(body.placedBy).toBe('spiffe://example.org/ns/shop/sa/frontend');
      expect(body.billing.caller).toBe('spiffe://example.org/ns/shop/sa/orders');
    } finally {
      await frontend.close();
    }
  });

  it('the health port answers without a client certificate, with the serial served', async () => {
    const answer = await fetch(`http://127.0.0.1:${apps.billing!.healthPort}/healthz`);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as K8s;
    expect(body.serving).toBe(apps.billing!.source.current().identity.serialNumber);
    expect(body.failing).toBe(false);
  });

  it('a renewal written into the secret volume is served without a restart', async () => {
    const deployment = manifests.named('Deployment', 'billing', 'shop');
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find((m: K8s) => m.name === 'tls');
    const before = apps.billing!.source.current().identity.serialNumber;
    const updated = once(apps.billing!.source, 'update');
    await writeSecretVolume(join(root, 'billing', mount.mountPath), await volumeFiles(deployment, mount));
    await updated;
    const answer = await fetch(`http://127.0.0.1:${apps.billing!.healthPort}/healthz`);
    const body = (await answer.json()) as K8s;
    expect(body.serving).not.toBe(before);
    expect(body.rotations).toBe(1);
  });
});
