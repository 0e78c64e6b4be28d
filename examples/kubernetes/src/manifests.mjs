// The manifests as plain objects, and the lookups the checks and the tests share.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const MANIFESTS_DIR = fileURLToPath(new URL('../manifests/', import.meta.url));

/** Every object of every `*.yaml` file in `dir`, in `kubectl apply -f dir` order; throws on a YAML error. */
export async function loadManifests(dir = MANIFESTS_DIR) {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort();
  const objects = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const object = doc.toJS();
      if (object) objects.push(object);
    }
  }
  return objects;
}

/** Lookups over a list of objects. */
export function index(objects) {
  const namespaceOf = (o) => o.metadata?.namespace ?? 'default';
  const all = (kind, namespace) =>
    objects.filter((o) => o.kind === kind && (namespace === undefined || namespaceOf(o) === namespace));
  const named = (kind, name, namespace) => all(kind, namespace).find((o) => o.metadata?.name === name);
  return {
    all,
    named,
    namespaceOf,
    /** The Certificate that writes `secretName` in `namespace`. */
    certificateWriting: (secretName, namespace) =>
      all('Certificate', namespace).find((c) => c.spec?.secretName === secretName),
    /** The Deployments whose pods carry every label of `selector`. */
    deploymentsSelectedBy: (selector, namespace) =>
      all('Deployment', namespace).filter((d) => matches(selector, d.spec?.template?.metadata?.labels)),
  };
}

/** Whether `labels` has every key and value of `selector` (a non-empty one). */
export function matches(selector, labels) {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels?.[k] === v);
}

/** A container's `env` as an object; `valueFrom` entries are not resolvable here and are left out. */
export function envOf(container) {
  return Object.fromEntries(
    (container.env ?? []).filter((e) => 'value' in e).map((e) => [e.name, String(e.value)]),
  );
}
