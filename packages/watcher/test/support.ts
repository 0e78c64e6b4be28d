// Helpers shared by the watcher tests: temporary directories, certificates, and waiting for events.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExpiryEvent, MeshlessError, TlsMaterial } from '@meshless/core';
import { afterEach } from 'vitest';
import type { FileCertificateSource } from '../src/index.js';

export type TestLeaf = { certPem: string; chainPem: string; keyPem: string; caPem: string };

/** Registers a cleanup for the end of the test: the test context's `onTestFinished` in concurrent tests. */
export type OnFinished = (cleanup: () => Promise<void>) => void;

const cleanups: (() => Promise<void>)[] = [];
const afterThisTest: OnFinished = (cleanup) => {
  cleanups.push(cleanup);
};

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh temporary directory, removed after the test. */
export async function tempDir(onFinished: OnFinished = afterThisTest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshless-watcher-'));
  onFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Closes the source after the test, whatever happens. */
export function autoClose<T extends FileCertificateSource>(
  source: T,
  onFinished: OnFinished = afterThisTest,
): T {
  onFinished(() => source.close());
  return source;
}

/** The SHA-256 fingerprint of a leaf's certificate, as `identity.fingerprint256` shows it. */
export function fingerprintOf(leaf: TestLeaf): string {
  return new X509Certificate(leaf.certPem).fingerprint256;
}

/** Whether the material's key belongs to its leaf: what must hold for every emitted material. */
export function keyMatches(material: TlsMaterial): boolean {
  return material.leaf.checkPrivateKey(createPrivateKey(material.keyPem));
}

/** Everything a source emits, in order, with the time it arrived. */
export interface Recorder {
  updates: TlsMaterial[];
  errors: MeshlessError[];
  expiry: ExpiryEvent[];
}

/** Starts recording a source's events (an error listener also keeps errors from becoming warnings). */
export function record(source: FileCertificateSource): Recorder {
  const recorder: Recorder = { updates: [], errors: [], expiry: [] };
  source.on('update', (material) => recorder.updates.push(material));
  source.on('error', (error) => recorder.errors.push(error));
  source.on('expiring', (event) => recorder.expiry.push(event));
  source.on('expired', (event) => recorder.expiry.push(event));
  return recorder;
}

/** Resolves with the first `update` whose leaf has the given fingerprint; rejects after `timeoutMs`. */
export function updateTo(
  source: FileCertificateSource,
  fingerprint: string,
  timeoutMs = 1000,
): Promise<TlsMaterial> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off('update', onUpdate);
      reject(
        new Error(
          `no update to ${fingerprint} within ${timeoutMs} ms (serving ${source.current().identity.fingerprint256})`,
        ),
      );
    }, timeoutMs);
    const onUpdate = (material: TlsMaterial) => {
      if (material.identity.fingerprint256 !== fingerprint) return;
      clearTimeout(timer);
      source.off('update', onUpdate);
      resolve(material);
    };
    source.on('update', onUpdate);
  });
}

/** Resolves with the first `error` that satisfies `match`; rejects after `timeoutMs`. */
export function errorWhere(
  source: FileCertificateSource,
  match: (error: MeshlessError) => boolean,
  timeoutMs = 2000,
): Promise<MeshlessError> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(() => {
      source.off('error', onError);
      reject(new Error(`no matching error within ${timeoutMs} ms; saw ${seen.join(', ') || 'none'}`));
    }, timeoutMs);
    const onError = (error: MeshlessError) => {
      seen.push(error.code);
      if (!match(error)) return;
      clearTimeout(timer);
      source.off('error', onError);
      resolve(error);
    };
    source.on('error', onError);
  });
}

/** Waits until `condition` holds, checking every 10 ms. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
