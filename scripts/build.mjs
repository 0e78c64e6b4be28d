// Builds every workspace package with tsup, dependencies first, so that each package's
// declaration build sees the already-built declarations of the packages it imports.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

const packages = new Map();
for (const dir of readdirSync(packagesDir)) {
  const manifestPath = join(packagesDir, dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  packages.set(manifest.name, {
    dir: join(packagesDir, dir),
    deps: Object.keys(manifest.dependencies ?? {}),
  });
}

const order = [];
const visiting = new Set();
function visit(name) {
  if (order.includes(name)) return;
  if (visiting.has(name)) throw new Error(`dependency cycle through ${name}`);
  visiting.add(name);
  for (const dep of packages.get(name).deps) if (packages.has(dep)) visit(dep);
  visiting.delete(name);
  order.push(name);
}
for (const name of packages.keys()) visit(name);

const only = process.argv.slice(2);
for (const name of order) {
  if (only.length > 0 && !only.some((o) => name.endsWith(o))) continue;
  const { dir } = packages.get(name);
  // Packages still being written have no entry point yet: tsup would fail on them.
  if (!existsSync(join(dir, 'src', 'index.ts'))) {
    process.stdout.write(`skip ${name} (no src/index.ts yet)\n`);
    continue;
  }
  process.stdout.write(`build ${name}\n`);
  execFileSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' });
}
