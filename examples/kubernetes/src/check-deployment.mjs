// A Deployment against the app's configuration: the files the app is told to read are where the
// volumes put them, the volumes hold what cert-manager and trust-manager write, and the
// certificate names the pod's own namespace and service account.
import { basename, dirname } from 'node:path';
import { ENV } from './app-config.mjs';
import { issuingCaSecret } from './check-certificates.mjs';
import { matches } from './manifests.mjs';

// The keys of the kubernetes.io/tls secret cert-manager writes.
const SECRET_KEYS = { cert: 'tls.crt', key: 'tls.key' };

/** The volumeMount and volume in which `container` of `deployment` finds `file`, as far as they exist. */
export function volumeAt(deployment, container, file) {
  const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === dirname(file));
  const volume = mount && (deployment.spec?.template?.spec?.volumes ?? []).find((v) => v.name === mount.name);
  return { mount, volume };
}

/** Problems of one Deployment whose container runs the app with `config`. */
export function checkDeployment(deployment, container, config, manifests) {
  const namespace = manifests.namespaceOf(deployment);
  const where = `Deployment ${namespace}/${deployment.metadata.name}`;
  const pod = deployment.spec?.template?.spec ?? {};
  const problems = [];
  const problem = (text) => {
    problems.push(`${where}: ${text}`);
  };

  if (!matches(deployment.spec?.selector?.matchLabels, deployment.spec?.template?.metadata?.labels))
    problem('spec.selector.matchLabels does not match the pod template labels');
  const account = pod.serviceAccountName;
  if (!account) problem('no serviceAccountName: the SPIFFE ID names the service account the pod runs as');
  else if (!manifests.named('ServiceAccount', account, namespace))
    problem(`serviceAccountName ${account} has no ServiceAccount in ${namespace}`);

  // The volume behind each file the app reads.
  const volumeOf = (input) => {
    const file = config.tls[input];
    const { mount, volume } = volumeAt(deployment, container, file);
    if (!mount)
      return problem(`${ENV[input]}=${file} is not in a mounted volume (no volumeMount at ${dirname(file)})`);
    if (mount.subPath)
      return problem(`volumeMount ${mount.name} uses subPath, which the kubelet never updates`);
    if (!volume) return problem(`volumeMount ${mount.name} has no volume of that name`);
    if (volume.secret?.items || volume.configMap?.items)
      return problem(`volume ${volume.name} remaps keys with items; mount every key under its own name`);
    return volume;
  };

  const certVolume = volumeOf('cert');
  const keyVolume = volumeOf('key');
  if (certVolume && keyVolume && certVolume !== keyVolume)
    problem(`${ENV.cert} and ${ENV.key} must come from the same secret volume, so that they rotate together`);
  let certificate;
  if (certVolume) {
    const secretName = certVolume.secret?.secretName;
    certificate = secretName && manifests.certificateWriting(secretName, namespace);
    if (!secretName) problem(`${ENV.cert} is in volume ${certVolume.name}, which is not a secret volume`);
    else if (!certificate)
      problem(`mounts secret ${secretName}, which no Certificate in ${namespace} writes`);
    for (const input of ['cert', 'key']) {
      const name = basename(config.tls[input]);
      if (name !== SECRET_KEYS[input])
        problem(`${ENV[input]} names ${name}, but cert-manager writes the ${input} as ${SECRET_KEYS[input]}`);
    }
  }
  if (certificate && account) {
    const expected = `spiffe://${config.trustDomain}/ns/${namespace}/sa/${account}`;
    const actual = certificate.spec?.uris?.[0];
    if (actual !== expected)
      problem(
        `Certificate ${certificate.metadata.name} has SPIFFE ID ${actual}, but the pod runs as ${expected}`,
      );
  }

  const caVolume = volumeOf('ca');
  if (caVolume) {
    const configMap = caVolume.configMap?.name;
    const bundle = configMap && manifests.named('Bundle', configMap);
    if (!configMap) problem(`${ENV.ca} is in volume ${caVolume.name}, which is not a ConfigMap volume`);
    else if (!bundle) problem(`mounts ConfigMap ${configMap}, which no trust-manager Bundle writes`);
    else {
      const target = bundle.spec?.target?.configMap?.key;
      if (basename(config.tls.ca) !== target)
        problem(
          `${ENV.ca} names ${basename(config.tls.ca)}, but Bundle ${configMap} writes the key ${target}`,
        );
      const labels = manifests.named('Namespace', namespace)?.metadata?.labels;
      if (!matches(bundle.spec?.target?.namespaceSelector?.matchLabels, labels))
        problem(
          `Bundle ${configMap} is not copied to namespace ${namespace} (its namespaceSelector does not match)`,
        );
      const caSecret = certificate && issuingCaSecret(certificate, manifests, where, problems);
      if (caSecret && !(bundle.spec?.sources ?? []).some((s) => s.secret?.name === caSecret))
        problem(
          `Bundle ${configMap} does not distribute the CA that signs its certificate (secret ${caSecret})`,
        );
    }
  }

  const ports = (container.ports ?? []).map((p) => p.containerPort);
  if (!ports.includes(config.port)) problem(`${ENV.port}=${config.port} is not a containerPort`);
  if (!ports.includes(config.healthPort))
    problem(`${ENV.healthPort}=${config.healthPort} is not a containerPort`);
  return problems;
}
