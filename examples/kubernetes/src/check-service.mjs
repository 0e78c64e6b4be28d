import { volumeAt } from './check-deployment.mjs';

// Services against the apps behind them: a Service selects one Deployment and sends traffic to the
// app's mTLS port; a caller's URL names a Service whose pods carry the SPIFFE ID it expects.

/** The containerPort a Service port's targetPort (a name or a number; default: the port) means. */
function containerPortOf(servicePort, container) {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  return (container.ports ?? []).find((p) => p.name === target)?.containerPort;
}

/**
 * Problems of one Service. `appOf(deployment)` gives the app's container and configuration
 * (`{ container, config }`), or undefined when it cannot be read.
 */
export function checkService(service, manifests, appOf) {
  const namespace = manifests.namespaceOf(service);
  const where = `Service ${namespace}/${service.metadata.name}`;
  const selected = manifests.deploymentsSelectedBy(service.spec?.selector, namespace);
  if (selected.length !== 1)
    return [`${where}: its selector matches ${selected.length} Deployments' pods, not one`];
  const app = appOf(selected[0]);
  if (!app) return [];
  const problems = [];
  for (const port of service.spec?.ports ?? []) {
    const target = containerPortOf(port, app.container);
    if (target === undefined)
      problems.push(
        `${where}: port ${port.port} targets ${port.targetPort}, which the container does not declare`,
      );
    else if (target !== app.config.port)
      problems.push(
        `${where}: port ${port.port} targets container port ${target}, but the app's mTLS port is ${app.config.port}`,
      );
  }
  return problems;
}

/**
 * Problems of a call from the app in `from` to `url`, expecting the server to be `spiffeId`: the
 * URL must name a Service of the manifests (`name.namespace.svc.cluster.local`, or a shorter form)
 * and one of its ports, and the pods behind it must hold a certificate with that SPIFFE ID.
 */
export function checkCall({ from, url, spiffeId }, manifests, appOf) {
  const { hostname, port } = new URL(url);
  const [name, namespace = manifests.namespaceOf(from), ...rest] = hostname.split('.');
  const where = `Deployment ${manifests.namespaceOf(from)}/${from.metadata.name}`;
  const suffix = rest.join('.');
  const service =
    ['', 'svc', 'svc.cluster.local'].includes(suffix) && manifests.named('Service', name, namespace);
  if (!service) return [`${where}: ${url} names no Service of the manifests`];
  const wanted = Number(port || 443);
  if (!(service.spec?.ports ?? []).some((p) => p.port === wanted))
    return [`${where}: ${url} uses port ${wanted}, which Service ${namespace}/${name} does not expose`];
  const [target] = manifests.deploymentsSelectedBy(service.spec?.selector, namespace);
  const app = target && appOf(target);
  if (!app) return [];
  const { volume } = volumeAt(target, app.container, app.config.tls.cert);
  const certificate = manifests.certificateWriting(volume?.secret?.secretName, namespace);
  const actual = certificate?.spec?.uris?.[0];
  return actual === spiffeId
    ? []
    : [`${where}: expects ${spiffeId} behind ${url}, but those pods hold ${actual ?? 'no certificate'}`];
}
