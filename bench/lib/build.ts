// Vitest global setup of the benchmarks: makes sure the servers and clients under test are built
// (the child processes run on packages/*/dist, as users do), and compiles the child process scripts
// of bench/processes with tsup into node_modules/.cache, where Node resolves @meshless/* through the
// workspace links to those dist folders.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Where the compiled child scripts go. */
export const PROCESSES_DIR = join(root, 'node_modules', '.cache', 'meshless-bench');
// What the child processes import, in dependency order.
const PACKAGES = ['core', 'pki', 'watcher', 'server', 'client'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(name: string): boolean {
  const built = join(root, 'packages', name, 'dist', 'index.js');
  if (!existsSync(built)) return true;
  return newestMtime(join(root, 'packages', name, 'src')) > statSync(built).mtimeMs;
}

export default async function setup(): Promise<void> {
  const stale = PACKAGES.filter(isStale);
  if (stale.length > 0) {
    process.stdout.write(`bench: building ${PACKAGES.join(', ')} (stale: ${stale.join(', ')})\n`);
    // All five, in order: a rebuilt core changes what the others' declarations see.
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), ...PACKAGES], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: {
      server: 'bench/processes/server.ts',
      load: 'bench/processes/load.ts',
      handshakes: 'bench/processes/handshakes.ts',
      'churn-server': 'bench/processes/churn-server.ts',
      'churn-client': 'bench/processes/churn-client.ts',
      startup: 'bench/processes/startup.ts',
    },
    outDir: PROCESSES_DIR,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    // The packages stay imports, resolved at run time to their dist: the code users run.
    external: [/^@meshless\//, 'undici'],
    clean: true,
    silent: true,
    dts: false,
    sourcemap: false,
  });
}
