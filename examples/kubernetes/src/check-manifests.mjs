#!/usr/bin/env node
// Checks that the manifests and the app's configuration line up: the names, keys, mount paths,
// SPIFFE IDs and ports that must agree across cert-manager, trust-manager, the Deployments, the
// Services and the environment the app reads. `npm run check` prints the problems (exit 1 if any).
import { configFromEnv } from './app-config.mjs';
import { checkWorkloadCertificate } from './check-certificates.mjs';
import { checkDeployment } from './check-deployment.mjs';
import { checkCall, checkService } from './check-service.mjs';
import { envOf, index, loadManifests } from './manifests.mjs';
import { isMain } from './run-directly.mjs';

/** Every problem found in `objects` (the parsed manifests); an empty list when everything lines up. */
export function checkManifests(objects) {
  const manifests = index(objects);
  const problems = [];

  for (const certificate of manifests.all('Certificate')) {
    if (certificate.spec?.isCA) continue;
    const where = `Certificate ${manifests.namespaceOf(certificate)}/${certificate.metadata.name}`;
    problems.push(...checkWorkloadCertificate(certificate, where));
  }

  // The app's container of each Deployment and the configuration it would start with.
  const apps = new Map();
  for (const deployment of manifests.all('Deployment')) {
    const where = `Deployment ${manifests.namespaceOf(deployment)}/${deployment.metadata.name}`;
    const containers = deployment.spec?.template?.spec?.containers ?? [];
    if (containers.length !== 1) {
      problems.push(`${where}: expected one container, found ${containers.length}`);
      continue;
    }
    const [container] = containers;
    try {
      apps.set(deployment, { container, config: configFromEnv(envOf(container)) });
    } catch (err) {
      problems.push(`${where}: the app would not start: ${err.message}`);
    }
  }
  const appOf = (deployment) => apps.get(deployment);

  for (const [deployment, { container, config }] of apps) {
    problems.push(...checkDeployment(deployment, container, config, manifests));
    if (config.billing)
      problems.push(
        ...checkCall({ from: deployment, ...config.billing, spiffeId: config.billing.id }, manifests, appOf),
      );
    if (
      config.allowedCaller &&
      !manifests.all('Certificate').some((c) => c.spec?.uris?.[0] === config.allowedCaller)
    )
      problems.push(
        `Deployment ${manifests.namespaceOf(deployment)}/${deployment.metadata.name}: allows ${config.allowedCaller}, which no Certificate issues`,
      );
  }
  for (const service of manifests.all('Service')) problems.push(...checkService(service, manifests, appOf));
  return problems;
}

if (isMain(import.meta.url)) {
  const objects = await loadManifests();
  const problems = checkManifests(objects);
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.log(
    problems.length === 0
      ? `✓ ${objects.length} objects, everything lines up`
      : `${problems.length} problems`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
