import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeshlessError } from '@meshless/core';
import { type CommandRegistration, type Context, examples } from '../context.js';
import { EXIT } from '../exit-codes.js';

/** Where the demo script lives in a meshless checkout, relative to the repository root. */
export const DEMO_SCRIPT = join('examples', 'demo', 'run.mjs');

/**
 * `meshless demo`: runs the demo script with Node, its output straight to the terminal. The demo
 * lives in the repository (examples/demo), not in the published package, so it is found through
 * `MESHLESS_DEMO_SCRIPT` or by looking upwards from this package for `examples/demo/run.mjs`.
 *
 * @example
 * ```ts
 * registerDemo(program, context);
 * ```
 */
export const registerDemo: CommandRegistration = (program, context) => {
  program
    .command('demo')
    .description('run the meshless demo (from a meshless checkout, or the script in MESHLESS_DEMO_SCRIPT)')
    .argument('[args...]', 'arguments passed to the demo script')
    .addHelpText(
      'after',
      examples(
        ['meshless demo', 'MESHLESS_DEMO_SCRIPT=./meshless/examples/demo/run.mjs meshless demo'],
        'Exit status: 0 when the demo succeeds, 1 when it fails, 2 when no demo script is found.',
      ),
    )
    .action(async (args: string[]) => demo(args, context));
};

/**
 * Finds the demo script: `MESHLESS_DEMO_SCRIPT` when set, else `examples/demo/run.mjs` in the
 * first directory above `from` that has one.
 *
 * @example
 * ```ts
 * findDemoScript(process.env, dirname(fileURLToPath(import.meta.url)));
 * ```
 */
export function findDemoScript(
  env: Readonly<Record<string, string | undefined>>,
  from: string,
): string | undefined {
  const configured = env.MESHLESS_DEMO_SCRIPT;
  if (configured) return existsSync(configured) ? resolve(configured) : undefined;
  let dir = from;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, DEMO_SCRIPT);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

// In a checkout, the repository's guide; installed, the copy the build puts in dist/.
function gettingStartedPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const inCheckout = join(here, '..', '..', '..', 'docs', 'getting-started.md');
  return existsSync(inCheckout) ? inCheckout : join(here, 'getting-started.md');
}

async function demo(args: string[], context: Context): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const script = findDemoScript(context.io.env, here);
  if (!script) {
    const configured = context.io.env.MESHLESS_DEMO_SCRIPT;
    throw new MeshlessError(
      'ERR_MESHLESS_DEMO_NOT_FOUND',
      configured
        ? `MESHLESS_DEMO_SCRIPT points at ${configured}, which does not exist`
        : `no demo script found (${DEMO_SCRIPT}): the demo ships with the meshless repository, not with the installed command; run \`npm ci && npm run demo\` in a clone of it, or follow the getting-started guide with the packages you have installed: ${gettingStartedPath()}`,
      { file: configured ?? DEMO_SCRIPT },
    );
  }
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: 'inherit',
      env: { ...context.io.env },
    });
    child.once('error', fail);
    child.once('exit', (status, signal) => done(status ?? (signal ? 1 : 0)));
  });
  context.exitCode = code === 0 ? EXIT.ok : EXIT.failed;
}
