// Keeps docs/observability.md and the README in step with the code: the alert rules are valid YAML
// in Prometheus's rule-file shape, name only metrics this package exports (or rules the page
// records), and every metric is documented in both places.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COUNTERS, EXPIRY_GAUGE } from '../src/instruments.js';
import { DEFAULT_PREFIX } from '../src/options.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');
const page = read('../../../docs/observability.md');
const readme = read('../README.md');
const exported = [...Object.values(COUNTERS).map((c) => c.name), EXPIRY_GAUGE.name].map(
  (name) => DEFAULT_PREFIX + name,
);

interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
  labels?: Record<string, string>;
}

/** The YAML blocks of the page that hold rule groups, parsed. */
function ruleFiles(): { groups: { name: string; rules: Rule[] }[] }[] {
  return [...page.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((m) => parse(m[1]!) as unknown)
    .filter((doc): doc is { groups: { name: string; rules: Rule[] }[] } =>
      Boolean(doc && typeof doc === 'object' && 'groups' in doc),
    );
}

describe('docs/observability.md', () => {
  const files = ruleFiles();
  const rules = files.flatMap((f) => f.groups.flatMap((g) => g.rules));
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));

  it('has rule groups for every alert the issue asks for', () => {
    const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : []));
    expect(new Set(alerts).size).toBe(alerts.length);
    for (const wanted of [
      'MeshlessCertificateExpiringWithoutRotation',
      'MeshlessRotationFailing',
      'MeshlessPlaintextOnStrictReadyService',
      'MeshlessHandshakeFailuresRising',
    ]) {
      expect(alerts).toContain(wanted);
    }
  });

  it('gives every rule a name, a string expression and balanced brackets', () => {
    for (const file of files) {
      for (const group of file.groups) {
        expect(typeof group.name).toBe('string');
        for (const rule of group.rules) {
          expect(Boolean(rule.alert) !== Boolean(rule.record)).toBe(true);
          expect(typeof rule.expr).toBe('string');
          const expr = rule.expr as string;
          for (const [open, close] of ['()', '{}', '[]']) {
            expect(expr.split(open!).length, `${open} in ${expr}`).toBe(expr.split(close!).length);
          }
        }
      }
    }
  });

  it('names only metrics this package exports, or rules it records', () => {
    const named = page.match(/\bmeshless_[a-z_]+\b/g) ?? [];
    const allowed = new Set([...exported, ...recorded, 'meshless_strict_ready']);
    // Also allowed: names inside recording rule names (job:meshless_...:rate5m).
    const unknown = named.filter(
      (name) => !allowed.has(name) && ![...recorded].some((r) => r.includes(name)),
    );
    expect(unknown).toEqual([]);
    for (const name of exported) expect(page).toContain(name);
  });
});

describe('README', () => {
  it('documents every metric with its labels', () => {
    const definitions = [...Object.values(COUNTERS), { ...EXPIRY_GAUGE, peer: false }];
    for (const definition of definitions) {
      const row = readme
        .split('\n')
        .find((line) => line.startsWith('|') && line.includes(`\`${DEFAULT_PREFIX}${definition.name}\``));
      expect(row, definition.name).toBeDefined();
      for (const label of definition.labels)
        expect(row, `${definition.name} ${label}`).toContain(`\`${label}\``);
      if (definition.peer) expect(row).toContain('`peer`');
    }
  });
});
