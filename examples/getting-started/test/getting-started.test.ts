import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs docs/getting-started.md as a reader would, outside the repository: every `sh` block's commands
// in order, and checks each `text` block against the output of the command before it. The packages
// come from the tarballs `npm run pack` makes, installed in a new project as the guide says; the
// meshless command is that project's (what `npx meshless` runs), and the two programs are this
// example's files, copied into the project, so they import the installed packages. The clone's own
// `npm ci && npm run build` is what `npm test` has just done here (test/packaging/fresh-clone.test.ts
// tests them on a fresh copy); the guide's `../` next to the clone is this test's temporary directory.
// The guide's `js` blocks must be this example's files.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ROOT = here('../../..');
const GUIDE = here('../../../docs/getting-started.md');
const PROGRAMS: Record<string, string> = {
  'server.mjs': here('../server.mjs'),
  'client.mjs': here('../client.mjs'),
};
const PROJECT = 'hello-mtls';

interface Block {
  lang: string;
  body: string;
}
interface Outcome {
  command: string;
  code: number;
  output: string;
}

let guide: string;
/** The temporary directory that stands for the parent of the clone. */
let parent: string;
/** The reader's project, where the commands after `cd hello-mtls` run. */
let dir: string;
/** The meshless command installed in the project from its tarball. */
let cli: string;
let port: number;
let server: ChildProcess | undefined;
const outcomes: Outcome[] = [];
const checked: { command: string; expected: string[]; outcome: Outcome }[] = [];

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

// Without the npm settings `npm test` sets for this workspace: the project is not part of it.
const env = () => {
  const clean: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NO_COLOR: '1' };
  for (const key of Object.keys(clean))
    if (/^npm_(package|lifecycle|config)_|^INIT_CWD$/i.test(key)) delete clean[key];
  return clean;
};

function npm(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      args,
      { cwd, env: env(), timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** The install steps, run for real: the tarballs, a new project, and one `npm install` of them all. */
async function setUp(line: string): Promise<Outcome> {
  const command = line;
  if (line === 'npm ci && npm run build') return { command, code: 0, output: 'done by npm test' };
  const pack = /^npm run pack -- \.\.\/(\S+)$/.exec(line);
  if (pack)
    return { command, ...(await run(join(ROOT, 'scripts', 'pack.mjs'), [join(parent, pack[1]!)], ROOT)) };
  if (line === `mkdir ${PROJECT} && cd ${PROJECT}`) {
    await mkdir(dir);
    return { command, code: 0, output: '' };
  }
  if (line === 'npm init -y && npm pkg set type=module') {
    const init = await npm(['init', '-y'], dir);
    if (init.code !== 0) return { command, ...init };
    return { command, ...(await npm(['pkg', 'set', 'type=module'], dir)) };
  }
  const install = /^npm install \.\.\/(\S+)\/\*\.tgz$/.exec(line);
  if (install) {
    const from = join(parent, install[1]!);
    const tarballs = (await readdir(from)).filter((f) => f.endsWith('.tgz')).map((f) => join(from, f));
    const result = await npm(
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs],
      dir,
    );
    cli = join(dir, 'node_modules', '@meshless', 'cli', 'bin', 'meshless.js');
    return { command, ...result };
  }
  throw new Error(`the guide's install step has a command this test does not know: ${line}`);
}

function run(file: string, args: string[], cwd = dir): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { cwd, env: env(), timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Starts the server in the background and resolves with its first line of output. */
function startServer(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server = spawn(process.execPath, [file], { cwd: dir, env: env() });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server.mjs said nothing in 10 s: ${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('\n')) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.on('exit', (code) => reject(new Error(`server.mjs exited with ${code}: ${output}`)));
  });
}

async function execute(line: string): Promise<Outcome> {
  const command = line.replaceAll(':8443', `:${port}`);
  const [program, ...args] = command.split(/\s+/);
  if (program === 'npm' || program === 'mkdir') return setUp(line);
  if (program === 'npx' && args[0] === 'meshless') return { command, ...(await run(cli, args.slice(1))) };
  // The reader writes the two programs into the project: copy them there, and run them from there.
  const copied = args[0] && PROGRAMS[args[0]] ? join(dir, args[0]) : undefined;
  if (program === 'node' && copied) await copyFile(PROGRAMS[args[0] as string] as string, copied);
  if (program === 'node' && args[0] === 'server.mjs')
    return { command, code: 0, output: await startServer(copied as string) };
  if (program === 'node' && copied) return { command, ...(await run(copied, [])) };
  throw new Error(`the guide runs a command this test does not know: ${line}`);
}

beforeAll(async () => {
  guide = await readFile(GUIDE, 'utf8');
  parent = await mkdtemp(join(tmpdir(), 'meshless-getting-started-'));
  dir = join(parent, PROJECT);
  port = await freePort();
  let last: Outcome | undefined;
  for (const block of blocks(guide)) {
    if (block.lang === 'sh') {
      for (const line of block.body.split('\n').map((l) => l.trim())) {
        if (line === '' || line.startsWith('#')) continue;
        last = await execute(line);
        outcomes.push(last);
      }
    } else if (block.lang === 'text') {
      if (!last) throw new Error('a text block before any command');
      const expected = block.body
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.replaceAll(':8443', `:${port}`));
      checked.push({ command: last.command, expected, outcome: last });
    }
  }
}, 300_000);

afterAll(async () => {
  server?.kill();
  await rm(parent, { recursive: true, force: true });
});

describe('docs/getting-started.md', () => {
  it('quotes server.mjs and client.mjs verbatim, and has no other JavaScript', async () => {
    const js = blocks(guide).filter((b) => b.lang === 'js' || b.lang === 'ts' || b.lang === 'javascript');
    const files = await Promise.all(Object.values(PROGRAMS).map((path) => readFile(path, 'utf8')));
    expect(js.map((b) => b.body)).toEqual(files);
  });

  it('runs every command of the guide', () => {
    expect(outcomes.map((o) => o.command.split(' ').slice(0, 3).join(' '))).toEqual([
      'npm ci &&',
      'npm run pack',
      'mkdir hello-mtls &&',
      'npm init -y',
      'npm install ../meshless-packages/*.tgz',
      'npx meshless ca',
      'npx meshless issue',
      'npx meshless issue',
      'node server.mjs',
      'node client.mjs',
      'npx meshless probe',
      'npx meshless probe',
      'npx meshless doctor',
    ]);
  });

  it('prints what the guide shows after each command, and fails only where the guide says it does', () => {
    expect(checked.length).toBeGreaterThanOrEqual(6);
    for (const { command, expected, outcome } of checked) {
      const lines = outcome.output.split('\n').map((l) => l.trimEnd());
      for (const line of expected) expect(lines, `${command}\n${outcome.output}`).toContain(line.trimEnd());
      const failureShown = expected.some((line) => line.startsWith('✗'));
      if (failureShown) expect(outcome.code, command).toBe(1);
      else expect(outcome.code, `${command}\n${outcome.output}`).toBe(0);
    }
    for (const outcome of outcomes.filter((o) => !checked.some((c) => c.outcome === o)))
      expect(outcome.code, `${outcome.command}\n${outcome.output}`).toBe(0);
  });

  it('picks up a certificate issued again while the server runs, as the guide says', async () => {
    const issueOrders = outcomes.find(
      (o) => o.command.includes('sa/orders') && o.command.includes(' issue '),
    )!;
    const before = await servedSerial();
    const again = await run(cli, issueOrders.command.split(/\s+/).slice(2));
    expect(again.code).toBe(0);
    const issued = new X509Certificate(await readFile(join(dir, 'orders', 'tls.crt'))).serialNumber;
    expect(issued).not.toBe(before);
    const deadline = performance.now() + 3000;
    while ((await servedSerial()) !== issued && performance.now() < deadline) await sleep(50);
    expect(await servedSerial()).toBe(issued);
    const client = await run(PROGRAMS['client.mjs']!, []);
    expect(client.output).toContain("200 { hello: 'spiffe://example.org/ns/shop/sa/frontend' }");
  });
});

describe('the meshless command installed from its tarball', () => {
  it('ends --help with the absolute path of the CLI guide it ships', async () => {
    const help = await run(cli, ['--help']);
    expect(help.code, help.output).toBe(0);
    const guidePath = /Documentation: (\S+)\s*$/.exec(help.output)?.[1] as string;
    expect(guidePath).toBe(join(dir, 'node_modules', '@meshless', 'cli', 'dist', 'cli.md'));
    expect(existsSync(guidePath)).toBe(true);
  });

  it('answers `meshless demo` outside a clone with how to run it, and a getting-started guide that exists', async () => {
    const demo = await run(cli, ['demo']);
    expect(demo.code).toBe(2);
    expect(demo.output).toContain('ERR_MESHLESS_DEMO_NOT_FOUND');
    expect(demo.output).toContain('run `npm ci && npm run demo` in a clone');
    const guidePath = join(dir, 'node_modules', '@meshless', 'cli', 'dist', 'getting-started.md');
    expect(demo.output).toContain(guidePath);
    expect(await readFile(guidePath, 'utf8')).toBe(guide);
  });
});

/** The serial of the certificate the server presents to a new connection (frontend's credentials). */
async function servedSerial(): Promise<string> {
  const [cert, key, ca] = await Promise.all(
    ['tls.crt', 'tls.key', 'ca.crt'].map((name) => readFile(join(dir, 'frontend', name))),
  );
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, cert, key, ca, checkServerIdentity: () => undefined },
      () => {
        const serial = socket.getPeerX509Certificate()!.serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.setTimeout(2000, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}
