// Footprint gate (issue 20): importing or requiring the packages a running service uses must not
// load @peculiar/x509 or any ASN.1 framework (asn1js, @peculiar/asn1-*, pkijs, tsyringe,
// reflect-metadata); those stay in @meshless/pki and the CLI, which load them on first use. Runs the built packages (dist) in a
// fresh child process, as a user's service loads them; `npm test` builds first.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./loaded-modules.mjs', import.meta.url));
const REQUEST_PATH_PACKAGES = [
  '@meshless/core',
  '@meshless/server',
  '@meshless/client',
  '@meshless/watcher',
  '@meshless/express',
  '@meshless/fastify',
  '@meshless/metrics',
  '@meshless/spiffe',
];
const FRAMEWORK =
  /[\\/]node_modules[\\/](@peculiar[\\/]|asn1js[\\/]|pkijs[\\/]|tsyringe[\\/]|reflect-metadata[\\/]|pvtsutils[\\/])/;

async function loadedBy(mode: 'esm' | 'cjs', packages: string[]): Promise<string[]> {
  // Each argument is a package name, or --create-ca to create a CA with @meshless/pki afterwards.
  const { stdout } = await run(process.execPath, [script, mode, ...packages], { timeout: 60_000 });
  return JSON.parse(stdout) as string[];
}

describe('what importing the request-path packages loads', () => {
  for (const mode of ['esm', 'cjs'] as const) {
    it(`${mode}: no ASN.1 framework for any of ${REQUEST_PATH_PACKAGES.length} packages`, async () => {
      const loaded = await loadedBy(mode, REQUEST_PATH_PACKAGES);
      // The hook or the cache saw the packages themselves, so an empty list cannot pass.
      for (const name of ['core', 'server', 'client', 'spiffe'])
        expect(loaded.some((file) => file.includes(`packages/${name}/dist/`))).toBe(true);
      expect(loaded.filter((file) => FRAMEWORK.test(file))).toEqual([]);
    });
  }

  for (const mode of ['esm', 'cjs'] as const) {
    it(`${mode}: @meshless/pki loads @peculiar/x509 on first use, not on import (so the check can fail)`, async () => {
      const imported = await loadedBy(mode, ['@meshless/pki']);
      expect(imported.some((file) => file.includes('packages/pki/dist/'))).toBe(true);
      expect(imported.filter((file) => FRAMEWORK.test(file))).toEqual([]);
      const used = await loadedBy(mode, ['@meshless/pki', '--create-ca']);
      expect(used.some((file) => /@peculiar[\\/]x509/.test(file))).toBe(true);
      expect(used.some((file) => /reflect-metadata/.test(file))).toBe(true);
    });
  }
});
