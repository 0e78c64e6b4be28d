// `npm run pack [-- DIR]`: makes an installable tarball of every public package (npm pack), in DIR
// (default: tarballs/ at the repository root), from what `npm run build` built. Until the packages
// are published, `npm install DIR/*.tgz` in another project installs them all together (they depend
// on each other's exact versions, so npm must see them in one command).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const destination = resolve(process.argv[2] ?? join(root, 'tarballs'));

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private);

const unbuilt = packages.filter(({ dir }) => !existsSync(join(dir, 'dist', 'index.js')));
if (unbuilt.length > 0) {
  const names = unbuilt.map(({ manifest }) => manifest.name).join(', ');
  process.stderr.write(`pack: ${names} not built: run \`npm run build\` first\n`);
  process.exit(1);
}

mkdirSync(destination, { recursive: true });
const workspaces = packages.map(({ dir }) => `--workspace=${relative(root, dir)}`);
const output = execFileSync(
  'npm',
  ['pack', ...workspaces, '--pack-destination', destination, '--json', '--loglevel=error'],
  { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const files = JSON.parse(output).map((entry) => join(destination, entry.filename));
process.stdout.write(`${files.join('\n')}\n`);
process.stdout.write(
  `\n${files.length} packages in ${destination}; install them together with:\n  npm install ${join(destination, '*.tgz')}\n`,
);
