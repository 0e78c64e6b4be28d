// Packaging gate: packs every public package that has sources, installs the tarballs together into
// a scratch project outside the workspace, then imports (ESM) and requires (CJS) each one there,
// and runs publint and are-the-types-wrong on each tarball. It tests the built files: `npm test`
// builds first.
import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeLeaf, makeRoot } from '../support/certs.js';
import { childEnv } from './child-env.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const TIMEOUT_MS = 240_000;

/** Exports each package must have once it exists (DESIGN.md's public API), as `typeof` values. */
const EXPECTED_EXPORTS: Record<string, Record<string, string>> = {
  '@meshless/core': {
    parseSpiffeId: 'function',
    parseTrustDomain: 'function',
    identityFromCertificate: 'function',
    loadMaterial: 'function',
    staticSource: 'function',
    authorize: 'object',
    MeshlessError: 'function',
    isMeshlessError: 'function',
    MESHLESS_ERROR_CODES: 'object',
  },
  '@meshless/pki': { createCa: 'function', writeLayout: 'function' },
  '@meshless/watcher': { watchCertificateFiles: 'function' },
  '@meshless/server': { createServer: 'function', createSecureServer: 'function', peerOf: 'function' },
  '@meshless/client': { createAgent: 'function', createFetch: 'function' },
  '@meshless/express': { mtls: 'function' },
  '@meshless/fastify': { fastifyServerOptions: 'function', default: 'function', meshless: 'function' },
  '@meshless/metrics': { registerPrometheusMetrics: 'function', registerOpenTelemetryMetrics: 'function' },
  '@meshless/spiffe': { workloadApiSource: 'function' },
};

interface Manifest {
  name: string;
  version: string;
  license?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  bin?: string | Record<string, string>;
}

interface Candidate {
  name: string;
  dir: string;
  manifest: Manifest;
}

/** Public packages under packages/ with a real src/index.ts, and why the others were left out. */
function discoverPackages(): { included: Candidate[]; skipped: string[] } {
  const all: Candidate[] = [];
  const skipped: string[] = [];
  const packagesDir = join(root, 'packages');
  for (const entry of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, entry);
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (manifest.private) continue;
    const index = join(dir, 'src', 'index.ts');
    if (!existsSync(index)) {
      skipped.push(`${manifest.name}: no src/index.ts yet`);
      continue;
    }
    const code = readFileSync(index, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    if (!/\bexport\b/.test(code)) {
      skipped.push(`${manifest.name}: src/index.ts exports nothing yet`);
      continue;
    }
    all.push({ name: manifest.name, dir, manifest });
  }
  // A package whose @meshless dependency is not packed here would be fetched from the registry.
  let included = all;
  for (let changed = true; changed; ) {
    const names = new Set(included.map((c) => c.name));
    const next = included.filter((c) => {
      const missing = Object.keys(c.manifest.dependencies ?? {}).filter(
        (d) => d.startsWith('@meshless/') && !names.has(d),
      );
      if (missing.length > 0) skipped.push(`${c.name}: depends on ${missing.join(', ')}, which is not ready`);
      return missing.length === 0;
    });
    changed = next.length !== included.length;
    included = next;
  }
  return { included, skipped };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

interface ConsumerResult {
  keys: string[];
  problems: string[];
}

interface Lint {
  publint: string[];
  attw: string[];
}

const { included, skipped } = discoverPackages();
const LICENSE = readFileSync(join(root, 'LICENSE'), 'utf8');
const names = included.map((c) => c.name);

describe('packaging', () => {
  let work: string;
  const tarballs = new Map<string, string>();
  const lints = new Map<string, Lint>();
  let esm: Record<string, ConsumerResult> = {};
  let cjs: Record<string, ConsumerResult> = {};
  const bins = new Map<string, string[]>();
  let setupError: unknown;
  /** Packages that could not be packed (no build), each with the reason; their tests fail with it. */
  const unbuilt = new Map<string, string>();

  it('has the Apache-2.0 text as its LICENSE, as package.json says', () => {
    expect(LICENSE).toMatch(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    expect(LICENSE).toContain('END OF TERMS AND CONDITIONS');
    for (const { manifest } of included) expect(manifest.license, manifest.name).toBe('Apache-2.0');
  });

  it('covers every public package (none left out for want of an entry point or a dependency)', () => {
    expect(skipped).toEqual([]);
  });

  beforeAll(async () => {
    try {
      for (const { name, dir } of included) {
        const missing = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts'].find(
          (file) => !existsSync(join(dir, 'dist', file)),
        );
        if (missing) {
          unbuilt.set(name, `${name} has no dist/${missing}: run \`npm run build\` first`);
        } else if (statSync(join(dir, 'dist', 'index.js')).mtimeMs < newestMtime(join(dir, 'src'))) {
          // Only a warning: in a shared tree, sources may change between the build and this test.
          console.warn(
            `packaging: ${name}: dist is older than src; \`npm run build\` to test the current sources`,
          );
        }
      }
      // A package that depends on an unbuilt one cannot be installed either.
      for (let changed = true; changed; ) {
        changed = false;
        for (const { name, manifest } of included) {
          const dep = Object.keys(manifest.dependencies ?? {}).find((d) => unbuilt.has(d));
          if (!unbuilt.has(name) && dep) {
            unbuilt.set(name, `${name} depends on ${dep}, which cannot be packed: ${unbuilt.get(dep)}`);
            changed = true;
          }
        }
      }
      const ready = included.filter((c) => !unbuilt.has(c.name));
      work = mkdtempSync(join(tmpdir(), 'meshless-packaging-'));
      const packDir = join(work, 'tarballs');
      const consumer = join(work, 'consumer');
      const env = childEnv();
      mkdirSync(packDir);

      // One npm pack for all packages.
      const workspaces = ready.map((c) => `--workspace=${relative(root, c.dir)}`);
      const packed = await run('npm', ['pack', ...workspaces, '--pack-destination', packDir, '--json'], {
        cwd: root,
        env,
        maxBuffer: 64 * 1024 * 1024,
      });
      for (const entry of JSON.parse(packed.stdout) as { name: string; filename: string }[]) {
        tarballs.set(entry.name, join(packDir, entry.filename));
      }

      // Lint every tarball concurrently while the consumer project installs them.
      const linting = Promise.all(
        [...tarballs].map(async ([name, tarball]) => lints.set(name, await lintTarball(tarball, env))),
      );

      cpSync(join(root, 'test', 'packaging', 'consumer'), consumer, { recursive: true });
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'meshless-packaging-consumer', version: '0.0.0', private: true }),
      );
      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs.values()],
        { cwd: consumer, env, maxBuffer: 64 * 1024 * 1024 },
      );

      const rootCa = await makeRoot({ trustDomain: 'example.org' });
      const intermediate = await makeIntermediate(rootCa);
      const spiffeId = 'spiffe://example.org/ns/packaging/sa/consumer';
      const leaf = await makeLeaf(intermediate, { uris: [spiffeId] });
      const specFile = join(consumer, 'spec.json');
      writeFileSync(
        specFile,
        JSON.stringify({
          packages: ready.map((c) => c.name),
          expectedExports: EXPECTED_EXPORTS,
          material: { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem, spiffeId },
        }),
      );
      const [esmOut, cjsOut] = await Promise.all([
        run(process.execPath, ['esm.mjs', specFile], { cwd: consumer, env }),
        run(process.execPath, ['cjs.cjs', specFile], { cwd: consumer, env }),
      ]);
      esm = JSON.parse(esmOut.stdout);
      cjs = JSON.parse(cjsOut.stdout);
      for (const { name, manifest } of ready) {
        const problems: string[] = [];
        for (const command of binNames(manifest)) {
          try {
            const { stdout } = await run(join(consumer, 'node_modules', '.bin', command), ['--version'], {
              cwd: consumer,
              env,
            });
            if (!stdout.includes(manifest.version))
              problems.push(`${command} --version printed ${JSON.stringify(stdout)}`);
          } catch (err) {
            problems.push(`${command} --version failed: ${(err as Error).message}`);
          }
        }
        bins.set(name, problems);
      }
      await linting;
    } catch (err) {
      setupError = err;
    }
  }, TIMEOUT_MS);

  // Setup failures (npm errors) fail every test with the full message; a package that was not
  // built fails its own tests.
  const assertSetUp = (name?: string) => {
    if (setupError) throw setupError;
    const reason = name === undefined ? undefined : unbuilt.get(name);
    if (reason) throw new Error(reason);
  };

  afterAll(() => {
    if (work && !process.env.MESHLESS_KEEP_PACKAGING) rmSync(work, { recursive: true, force: true });
  });

  it('covers @meshless/core and packs every package it covers', () => {
    assertSetUp('@meshless/core');
    expect(names).toContain('@meshless/core');
    expect([...tarballs.keys(), ...unbuilt.keys()].sort()).toEqual([...names].sort());
  });

  describe.each(names)('%s', (name) => {
    const manifest = included.find((c) => c.name === name)?.manifest as Manifest;

    it("ships the repository's Apache-2.0 LICENSE", () => {
      assertSetUp(name);
      const tarball = tarballs.get(name) as string;
      const shipped = execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' });
      expect(shipped).toBe(LICENSE);
    });

    it('passes publint (strict)', () => {
      assertSetUp(name);
      expect(lints.get(name)?.publint).toEqual([]);
    });

    it('passes are-the-types-wrong', () => {
      assertSetUp(name);
      expect(lints.get(name)?.attw).toEqual([]);
    });

    it('works through import() from an ESM consumer', () => {
      assertSetUp(name);
      expect(esm[name]?.problems).toEqual([]);
    });

    it('works through require() from a CJS consumer', () => {
      assertSetUp(name);
      expect(cjs[name]?.problems).toEqual([]);
    });

    // Only packages that install commands get this test (no skipped placeholders for the others).
    if (binNames(manifest).length > 0) {
      it('installs commands that run (--version)', () => {
        assertSetUp(name);
        expect(bins.get(name)).toEqual([]);
      });
    }

    it('has the same exports in its ESM and CJS builds', () => {
      assertSetUp(name);
      expect(esm[name]?.keys.length).toBeGreaterThan(0);
      expect(cjs[name]?.keys).toEqual(esm[name]?.keys);
    });
  });
});

function binNames(manifest: Manifest): string[] {
  if (!manifest.bin) return [];
  return typeof manifest.bin === 'string'
    ? [manifest.name.replace(/^@[^/]+\//, '')]
    : Object.keys(manifest.bin);
}

/** publint (warnings count as errors) and attw (default, strict profile) on one tarball. */
async function lintTarball(tarball: string, env: NodeJS.ProcessEnv): Promise<Lint> {
  const bytes = readFileSync(tarball);
  const result = await publint({
    pack: {
      tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    },
    strict: true,
    level: 'warning',
  });
  const publintProblems = result.messages
    .filter((m) => m.type !== 'suggestion')
    .map((m) => `${m.type}: ${formatMessage(m, result.pkg, { color: false }) ?? m.code}`);

  let attwProblems: string[];
  const attwArgs = [tarball, '--format', 'json', '--no-definitely-typed'];
  try {
    const { stdout } = await run(bin('attw'), attwArgs, { env, maxBuffer: 64 * 1024 * 1024 });
    attwProblems = attwProblemsOf(stdout);
  } catch (err) {
    // attw exits 1 when it finds problems; its JSON is still on stdout.
    const stdout = (err as { stdout?: string }).stdout ?? '';
    attwProblems = stdout.trim().startsWith('{') ? attwProblemsOf(stdout) : [];
    if (attwProblems.length === 0) attwProblems = [`attw failed: ${(err as Error).message}`];
  }
  return { publint: publintProblems, attw: attwProblems };
}

function attwProblemsOf(stdout: string): string[] {
  const report = JSON.parse(stdout) as {
    analysis?: { problems?: { kind: string; entrypoint?: string; resolutionKind?: string }[] };
  };
  return (report.analysis?.problems ?? []).map((p) =>
    [p.kind, p.entrypoint, p.resolutionKind].filter((part) => part !== undefined).join(' '),
  );
}
