import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs docs/getting-started.md as a reader would: every `sh` block's commands in order (the meshless
// command from the built CLI, the two programs from this example), and checks each `text` block
// against the output of the command before it. The guide's `js` blocks must be this example's files.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const GUIDE = here('../../../docs/getting-started.md');
const CLI = here('../../../packages/cli/dist/bin.js');
const PROGRAMS: Record<string, string> = {
  'server.mjs': here('../server.mjs'),
  'client.mjs': here('../client.mjs'),
};
const SETUP = /^(mkdir|cd|npm) /; // the install step: the workspace already has the packages

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
let dir: string;
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

const env = () => ({ ...process.env, PORT: String(port), NO_COLOR: '1' });

function run(file: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file, ...args],
      { cwd: dir, env: env(), timeout: 20_000 },
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
  if (program === 'npx' && args[0] === 'meshless') return { command, ...(await run(CLI, args.slice(1))) };
  if (program === 'node' && args[0] === 'server.mjs')
    return { command, code: 0, output: await startServer(PROGRAMS['server.mjs']!) };
  if (program === 'node' && args[0] && PROGRAMS[args[0]])
    return { command, ...(await run(PROGRAMS[args[0]]!, [])) };
  throw new Error(`the guide runs a command this test does not know: ${line}`);
}

beforeAll(async () => {
  guide = await readFile(GUIDE, 'utf8');
  dir = await mkdtemp(join(tmpdir(), 'meshless-getting-started-'));
  port = await freePort();
  let last: Outcome | undefined;
  for (const block of blocks(guide)) {
    if (block.lang === 'sh') {
      for (const line of block.body.split('\n').map((l) => l.trim())) {
        if (line === '' || SETUP.test(line)) continue;
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
}, 90_000);

afterAll(async () => {
  server?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('docs/getting-started.md', () => {
  it('quotes server.mjs and client.mjs verbatim, and has no other JavaScript', async () => {
    const js = blocks(guide).filter((b) => b.lang === 'js' || b.lang === 'ts' || b.lang === 'javascript');
    const files = await Promise.all(Object.values(PROGRAMS).map((path) => readFile(path, 'utf8')));
    expect(js.map((b) => b.body)).toEqual(files);
  });

  it('runs every command of the guide', () => {
    expect(outcomes.map((o) => o.command.split(' ').slice(0, 3).join(' '))).toEqual([
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
    const again = await run(CLI, issueOrders.command.split(/\s+/).slice(2));
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
