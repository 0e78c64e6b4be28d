// Builds every workspace package with tsup, each as soon as the packages it imports are built (their
// declarations feed its declaration build), as many at a time as the machine has cores.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
const tsup = join(root, 'node_modules', '.bin', 'tsup');

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

const only = process.argv.slice(2);
const wanted = [...packages.keys()].filter((name) => only.length === 0 || only.some((o) => name.endsWith(o)));
// Dependencies outside the selection are taken as built already.
const pending = new Map(
  wanted.map((name) => [name, packages.get(name).deps.filter((d) => wanted.includes(d))]),
);
for (const [name, deps] of pending)
  for (const dep of deps) if (!pending.has(dep)) throw new Error(`${name} needs unknown ${dep}`);

function buildOne(name) {
  const { dir } = packages.get(name);
  // Packages still being written have no entry point yet: tsup would fail on them.
  if (!existsSync(join(dir, 'src', 'index.ts'))) {
    process.stdout.write(`skip ${name} (no src/index.ts yet)\n`);
    return Promise.resolve();
  }
  process.stdout.write(`build ${name}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(tsup, ['--silent'], { cwd: dir, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsup failed for ${name} (exit ${code})`)),
    );
  });
}

const done = new Set();
const running = new Map();
const slots = Math.max(1, availableParallelism());
while (done.size < pending.size) {
  for (const [name, deps] of pending) {
    if (running.size >= slots) break;
    if (done.has(name) || running.has(name) || !deps.every((d) => done.has(d))) continue;
    running.set(
      name,
      buildOne(name).then(() => name),
    );
  }
  if (running.size === 0) throw new Error('dependency cycle among the packages');
  const finished = await Promise.race(running.values());
  running.delete(finished);
  done.add(finished);
}
