import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configFromEnv } from '../src/app-config.mjs';
import { checkManifests } from '../src/check-manifests.mjs';
import { envOf, loadManifests, MANIFESTS_DIR } from '../src/manifests.mjs';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML
type K8s = any;
let objects: K8s[];
const find = (list: K8s[], kind: string, name: string) => {
  const found = list.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const containerOf = (deployment: K8s) => deployment.spec.template.spec.containers[0];
const env = (deployment: K8s) => envOf(containerOf(deployment));
const mountOf = (deployment: K8s, volumeName: string) =>
  containerOf(deployment).volumeMounts.find((m: K8s) => m.name === volumeName);
const volumeOf = (deployment: K8s, predicate: (v: K8s) => boolean) =>
  deployment.spec.template.spec.volumes.find(predicate);
const hours = (duration: string) => Number(/^(\d+)h$/.exec(duration)?.[1]);

beforeAll(async () => {
  objects = await loadManifests();
});

describe('example: kubernetes manifests', () => {
  it('every file is valid YAML with apiVersion, kind and name on each document', async () => {
    const files = (await readdir(MANIFESTS_DIR)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      for (const doc of parseAllDocuments(await readFile(join(MANIFESTS_DIR, file), 'utf8'))) {
        expect(doc.errors, file).toEqual([]);
        const object = doc.toJS();
        expect(object.apiVersion, file).toBeTruthy();
        expect(object.metadata?.name, file).toBeTruthy();
      }
    }
    const kinds = objects.map((o) => o.kind);
    for (const kind of [
      'Namespace',
      'ClusterIssuer',
      'Certificate',
      'Bundle',
      'ServiceAccount',
      'Deployment',
      'Service',
    ])
      expect(kinds).toContain(kind);
  });

  it('everything lines up with the app configuration (the checker finds no problem)', () => {
    expect(checkManifests(objects)).toEqual([]);
  });

  // The same facts, spelled out for the two services, so that the test reads as the contract.
  describe.each(['orders', 'billing'])('%s', (service) => {
    it('mounts the secret its Certificate writes, and that Certificate names the pod namespace and service account', () => {
      const deployment = find(objects, 'Deployment', service);
      const certificate = find(objects, 'Certificate', service);
      const config = configFromEnv(env(deployment));
      const secretVolume = volumeOf(deployment, (v) => v.secret);
      expect(secretVolume.secret.secretName).toBe(certificate.spec.secretName);
      const { namespace } = deployment.metadata;
      const account = deployment.spec.template.spec.serviceAccountName;
      expect(find(objects, 'ServiceAccount', account).metadata.namespace).toBe(namespace);
      expect(certificate.spec.uris).toEqual([`spiffe://${config.trustDomain}/ns/${namespace}/sa/${account}`]);
      expect(config.trustDomain).toBe('example.org');
      expect(namespace).toBe('shop');
    });

    it('reads the certificate and key where the secret volume is mounted, under the names cert-manager writes', () => {
      const deployment = find(objects, 'Deployment', service);
      const config = configFromEnv(env(deployment));
      const mount = mountOf(deployment, volumeOf(deployment, (v) => v.secret).name);
      expect(mount.mountPath).toBe('/var/run/secrets/meshless/tls');
      expect(config.tls.cert).toBe(`${mount.mountPath}/tls.crt`);
      expect(config.tls.key).toBe(`${mount.mountPath}/tls.key`);
      expect(mount.subPath).toBeUndefined();
    });

    it('reads the trust bundle where the Bundle ConfigMap is mounted, under the Bundle target key', () => {
      const deployment = find(objects, 'Deployment', service);
      const config = configFromEnv(env(deployment));
      const volume = volumeOf(deployment, (v) => v.configMap);
      const bundle = find(objects, 'Bundle', volume.configMap.name);
      const mount = mountOf(deployment, volume.name);
      expect(mount.mountPath).toBe('/var/run/secrets/meshless/ca');
      expect(dirname(config.tls.ca)).toBe(mount.mountPath);
      expect(basename(config.tls.ca)).toBe(bundle.spec.target.configMap.key);
      const namespace = find(objects, 'Namespace', deployment.metadata.namespace);
      for (const [label, value] of Object.entries(bundle.spec.target.namespaceSelector.matchLabels))
        expect(namespace.metadata.labels[label]).toBe(value);
    });

    it('is selected by its Service, which targets the app mTLS port', () => {
      const deployment = find(objects, 'Deployment', service);
      const svc = find(objects, 'Service', service);
      const labels = deployment.spec.template.metadata.labels;
      for (const [label, value] of Object.entries(svc.spec.selector)) expect(labels[label]).toBe(value);
      const port = containerOf(deployment).ports.find((p: K8s) => p.name === svc.spec.ports[0].targetPort);
      expect(port.containerPort).toBe(configFromEnv(env(deployment)).port);
    });

    it('has an ECDSA certificate for server and client auth, renewed before it expires', () => {
      const { spec } = find(objects, 'Certificate', service);
      expect(spec.privateKey.algorithm).toBe('ECDSA');
      expect(spec.usages).toEqual(
        expect.arrayContaining(['digital signature', 'server auth', 'client auth']),
      );
      expect(hours(spec.renewBefore)).toBeLessThan(hours(spec.duration));
    });
  });

  it('orders calls billing through its Service and expects the SPIFFE ID billing holds', () => {
    const orders = configFromEnv(env(find(objects, 'Deployment', 'orders')));
    const billing = configFromEnv(env(find(objects, 'Deployment', 'billing')));
    const billingService = find(objects, 'Service', 'billing');
    expect(orders.billing).toBeDefined();
    const target = orders.billing!;
    expect(target.url).toBe(`https://billing.shop.svc.cluster.local:${billingService.spec.ports[0].port}`);
    expect(target.id).toBe(find(objects, 'Certificate', 'billing').spec.uris[0]);
    expect(billing.allowedCaller).toBe(find(objects, 'Certificate', 'orders').spec.uris[0]);
  });
});

// Each drift a careless edit can make, and the problem the checker must report for it.
const drifts: [string, (o: K8s[]) => void, RegExp][] = [
  [
    "the Certificate's secretName",
    (o) => {
      find(o, 'Certificate', 'orders').spec.secretName = 'orders-cert';
    },
    /Deployment shop\/orders: mounts secret orders-tls, which no Certificate in shop writes/,
  ],
  [
    'the mounted secret',
    (o) => {
      volumeOf(find(o, 'Deployment', 'billing'), (v) => v.secret).secret.secretName = 'orders-tls';
    },
    /Deployment shop\/billing: Certificate orders has SPIFFE ID spiffe:\/\/example.org\/ns\/shop\/sa\/orders, but the pod runs as spiffe:\/\/example.org\/ns\/shop\/sa\/billing/,
  ],
  [
    'the namespace in the URI SAN',
    (o) => {
      find(o, 'Certificate', 'orders').spec.uris = ['spiffe://example.org/ns/prod/sa/orders'];
    },
    /Certificate orders has SPIFFE ID spiffe:\/\/example.org\/ns\/prod\/sa\/orders, but the pod runs as/,
  ],
  [
    'the serviceAccountName',
    (o) => {
      find(o, 'Deployment', 'orders').spec.template.spec.serviceAccountName = 'default';
    },
    /serviceAccountName default has no ServiceAccount in shop/,
  ],
  [
    'the trust domain the app is told',
    (o) => {
      containerOf(find(o, 'Deployment', 'billing')).env.find(
        (e: K8s) => e.name === 'MESHLESS_TRUST_DOMAIN',
      ).value = 'example.com';
    },
    /but the pod runs as spiffe:\/\/example.com\/ns\/shop\/sa\/billing/,
  ],
  [
    "the Bundle's target key",
    (o) => {
      find(o, 'Bundle', 'example-org-bundle').spec.target.configMap.key = 'trust-bundle.pem';
    },
    /MESHLESS_TLS_CA names ca.crt, but Bundle example-org-bundle writes the key trust-bundle.pem/,
  ],
  [
    "the Bundle's name (its ConfigMap's name)",
    (o) => {
      find(o, 'Bundle', 'example-org-bundle').metadata.name = 'example-org-roots';
    },
    /mounts ConfigMap example-org-bundle, which no trust-manager Bundle writes/,
  ],
  [
    "the Bundle's namespace selector",
    (o) => {
      find(o, 'Namespace', 'shop').metadata.labels = {};
    },
    /Bundle example-org-bundle is not copied to namespace shop/,
  ],
  [
    "the Bundle's source",
    (o) => {
      find(o, 'Bundle', 'example-org-bundle').spec.sources = [
        { secret: { name: 'other-root', key: 'tls.crt' } },
      ];
    },
    /does not distribute the CA that signs its certificate \(secret example-org-root\)/,
  ],
  [
    'the tls mount path',
    (o) => {
      mountOf(find(o, 'Deployment', 'orders'), 'tls').mountPath = '/etc/tls';
    },
    /MESHLESS_TLS_CERT=\/var\/run\/secrets\/meshless\/tls\/tls.crt is not in a mounted volume/,
  ],
  [
    'the trust bundle path the app reads',
    (o) => {
      containerOf(find(o, 'Deployment', 'orders')).env.find((e: K8s) => e.name === 'MESHLESS_TLS_CA').value =
        '/var/run/secrets/meshless/trust/ca.crt';
    },
    /MESHLESS_TLS_CA=\/var\/run\/secrets\/meshless\/trust\/ca.crt is not in a mounted volume/,
  ],
  [
    'the key file name',
    (o) => {
      containerOf(find(o, 'Deployment', 'orders')).env.find((e: K8s) => e.name === 'MESHLESS_TLS_KEY').value =
        '/var/run/secrets/meshless/tls/key.pem';
    },
    /MESHLESS_TLS_KEY names key.pem, but cert-manager writes the key as tls.key/,
  ],
  [
    'an env var the app needs',
    (o) => {
      const container = containerOf(find(o, 'Deployment', 'billing'));
      container.env = container.env.filter((e: K8s) => e.name !== 'MESHLESS_TLS_KEY');
    },
    /Deployment shop\/billing: the app would not start: MESHLESS_TLS_KEY is not set/,
  ],
  [
    'a subPath mount',
    (o) => {
      mountOf(find(o, 'Deployment', 'orders'), 'tls').subPath = 'tls.crt';
    },
    /volumeMount tls uses subPath/,
  ],
  [
    "the Service's selector",
    (o) => {
      find(o, 'Service', 'billing').spec.selector = { 'app.kubernetes.io/name': 'biling' };
    },
    /Service shop\/billing: its selector matches 0 Deployments' pods, not one/,
  ],
  [
    "the Service's targetPort",
    (o) => {
      find(o, 'Service', 'orders').spec.ports[0].targetPort = 'health';
    },
    /Service shop\/orders: port 8443 targets container port 9090, but the app's mTLS port is 8443/,
  ],
  [
    'the containerPort',
    (o) => {
      containerOf(find(o, 'Deployment', 'billing')).ports[0].containerPort = 8080;
    },
    /Deployment shop\/billing: PORT=8443 is not a containerPort/,
  ],
  [
    'renewBefore past the duration',
    (o) => {
      find(o, 'Certificate', 'billing').spec.renewBefore = '48h';
    },
    /Certificate shop\/billing: renewBefore 48h must be shorter than duration 24h/,
  ],
  [
    'the key algorithm',
    (o) => {
      find(o, 'Certificate', 'billing').spec.privateKey.algorithm = 'RSA';
    },
    /privateKey.algorithm should be ECDSA, not RSA/,
  ],
  [
    'the usages',
    (o) => {
      find(o, 'Certificate', 'orders').spec.usages = ['digital signature', 'server auth'];
    },
    /Certificate shop\/orders: usages lack client auth/,
  ],
  [
    'the issuer',
    (o) => {
      find(o, 'Certificate', 'orders').spec.issuerRef.name = 'letsencrypt';
    },
    /issuerRef names ClusterIssuer letsencrypt, which is not in the manifests/,
  ],
  [
    "orders' billing URL",
    (o) => {
      containerOf(find(o, 'Deployment', 'orders')).env.find((e: K8s) => e.name === 'BILLING_URL').value =
        'https://billing.payments.svc.cluster.local:8443';
    },
    /https:\/\/billing.payments.svc.cluster.local:8443 names no Service of the manifests/,
  ],
  [
    "orders' billing port",
    (o) => {
      containerOf(find(o, 'Deployment', 'orders')).env.find((e: K8s) => e.name === 'BILLING_URL').value =
        'https://billing.shop.svc.cluster.local';
    },
    /uses port 443, which Service shop\/billing does not expose/,
  ],
  [
    'the billing SPIFFE ID orders expects',
    (o) => {
      containerOf(find(o, 'Deployment', 'orders')).env.find(
        (e: K8s) => e.name === 'BILLING_SPIFFE_ID',
      ).value = 'spiffe://example.org/ns/shop/sa/payments';
    },
    /expects spiffe:\/\/example.org\/ns\/shop\/sa\/payments behind .*, but those pods hold spiffe:\/\/example.org\/ns\/shop\/sa\/billing/,
  ],
  [
    'the caller billing allows',
    (o) => {
      containerOf(find(o, 'Deployment', 'billing')).env.find(
        (e: K8s) => e.name === 'ALLOWED_CALLER_SPIFFE_ID',
      ).value = 'spiffe://example.org/ns/shop/sa/order';
    },
    /allows spiffe:\/\/example.org\/ns\/shop\/sa\/order, which no Certificate issues/,
  ],
];

describe('the checker reports each drift', () => {
  it.each(drifts)('%s', (_name, drift, expected) => {
    const drifted = structuredClone(objects);
    drift(drifted);
    const problems = checkManifests(drifted);
    expect(
      problems.some((p: string) => expected.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });
});
