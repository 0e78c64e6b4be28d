// Rotation faults under load. Four meshless servers, each fed by watchCertificateFiles and rotated by
// one kind of writer the watcher supports (the kubelet's AtomicWriter, spiffe-helper, an editor's
// rename, an in-place truncate-and-write), take a steady bounded load from a meshless client on
// keep-alive and fresh connections. Each writer in turn applies good rotations with bad updates in
// between. No request may fail; each good rotation must reach new connections within a second; each
// bad update must be refused with its code while the last good certificate keeps being served; and
// only the good rotations may ever be served (no half-written material).
import { X509Certificate } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { createAgent, type MeshlessAgent } from '@meshless/client';
import { authorize, loadMaterial, type MeshlessErrorCode, staticSource } from '@meshless/core';
import { createServer } from '@meshless/server';
import { type FileCertificateSource, watchCertificateFiles } from '@meshless/watcher';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atomicWriterUpdate,
  certManagerFiles,
  editorSave,
  type FileSet,
  spiffeHelperFiles,
  writeInPlace,
} from '../support/atomic-writer.js';
import { makeLeaf, makeRoot, type TestCa } from '../support/certs.js';
import { close, listen } from '../support/https-client.js';

const SERVER_ID = 'spiffe://example.org/ns/prod/sa/server';
const CLIENT_ID = 'spiffe://example.org/ns/prod/sa/client';
const MIN_REQUESTS = 20_000;
const GOOD_ROTATIONS = 4; // per writer, with a bad update between each two
const PICKUP_LIMIT_MS = 1_000;
const HOUR = 3_600_000;

type Files = { cert: string; key: string; ca: string };
type Leaf = Awaited<ReturnType<typeof makeLeaf>>;

interface Writer {
  name: string;
  layout: 'cert-manager' | 'spiffe-helper';
  write(dir: string, files: Files): Promise<unknown>;
}

const asCertManager = (f: Files): FileSet =>
  certManagerFiles({ chainPem: f.cert, keyPem: f.key, caPem: f.ca });
const asSpiffeHelper = (f: Files): FileSet =>
  spiffeHelperFiles({ chainPem: f.cert, keyPem: f.key, caPem: f.ca });

const WRITERS: Writer[] = [
  {
    name: 'kubelet AtomicWriter',
    layout: 'cert-manager',
    write: (dir, files) => atomicWriterUpdate(dir, asCertManager(files)),
  },
  {
    name: 'spiffe-helper (certificate first, key 50 ms later, in place)',
    layout: 'spiffe-helper',
    write: (dir, files) => writeInPlace(dir, asSpiffeHelper(files), { gapMs: 50 }),
  },
  {
    name: 'editor rename',
    layout: 'cert-manager',
    write: (dir, files) => editorSave(dir, asCertManager(files)),
  },
  {
    name: 'in-place truncate and write',
    layout: 'cert-manager',
    write: (dir, files) => writeInPlace(dir, asCertManager(files)),
  },
];

interface BadUpdate {
  name: string;
  code: MeshlessErrorCode;
  /**
   * The files of the update, given the good files in place. Writers write one file after another, so
   * no prefix of an update may be valid material on its own: a garbage bundle comes with the current
   * certificate and key, not with a new pair (which, written first, would be a good rotation).
   */
  make(current: Files): Promise<Files>;
}

let root: TestCa;
let foreignRoot: TestCa;
const goodLeaf = () => makeLeaf(root, { uris: [SERVER_ID] });
const filesOf = (leaf: Leaf): Files => ({ cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem });

const BAD_UPDATES: BadUpdate[] = [
  {
    name: 'a truncated certificate',
    code: 'ERR_MESHLESS_PEM_INVALID',
    make: async () => {
      const leaf = filesOf(await goodLeaf());
      return { ...leaf, cert: leaf.cert.slice(0, leaf.cert.length / 2) };
    },
  },
  {
    name: 'a key that belongs to another certificate',
    code: 'ERR_MESHLESS_KEY_MISMATCH',
    make: async () => ({ ...filesOf(await goodLeaf()), key: (await goodLeaf()).keyPem }),
  },
  {
    name: 'an expired certificate',
    code: 'ERR_MESHLESS_CERT_EXPIRED',
    make: async () =>
      filesOf(
        await makeLeaf(root, {
          uris: [SERVER_ID],
          notBefore: new Date(Date.now() - 2 * HOUR),
          notAfter: new Date(Date.now() - HOUR),
        }),
      ),
  },
  {
    name: 'a certificate from a foreign CA',
    code: 'ERR_MESHLESS_CHAIN_UNTRUSTED',
    make: async () => {
      const leaf = await makeLeaf(foreignRoot, { uris: [SERVER_ID] });
      return { cert: leaf.chainPem, key: leaf.keyPem, ca: root.rootPem };
    },
  },
  {
    name: 'a garbage trust bundle',
    code: 'ERR_MESHLESS_PEM_INVALID',
    make: async (current) => ({ ...current, ca: 'not a bundle\n' }),
  },
  {
    name: 'an empty key file',
    code: 'ERR_MESHLESS_PEM_INVALID',
    make: async () => ({ ...filesOf(await goodLeaf()), key: '' }),
  },
];

interface Target {
  writer: Writer;
  dir: string;
  source: FileCertificateSource;
  server: https.Server;
  port: number;
  url: string;
  errors: { code: string; at: number }[];
  /** Serials of every certificate the source made current, in order. */
  served: string[];
}

let base: string;
let client: Leaf;
let agent: MeshlessAgent;
const targets: Target[] = [];

beforeAll(async () => {
  root = await makeRoot();
  foreignRoot = await makeRoot({ trustDomain: 'example.org', subject: 'CN=foreign root' });
  client = await makeLeaf(root, { uris: [CLIENT_ID] });
  base = join(tmpdir(), `meshless-rotation-faults-${process.pid}-${Date.now()}`);
  for (const [index, writer] of WRITERS.entries()) {
    const dir = join(base, String(index));
    await mkdir(dir, { recursive: true });
    const first = await goodLeaf();
    await writer.write(dir, filesOf(first));
    const source = await watchCertificateFiles({ dir, layout: writer.layout });
    const target: Target = {
      writer,
      dir,
      source,
      server: undefined as never,
      port: 0,
      url: '',
      errors: [],
      served: [],
    };
    target.served.push(source.current().leaf.serialNumber);
    source.on('update', (material) => target.served.push(material.leaf.serialNumber));
    source.on('error', (error) => target.errors.push({ code: error.code, at: performance.now() }));
    target.server = createServer({ source, authorize: authorize.id(CLIENT_ID) }, (_req, res) =>
      res.end('ok'),
    );
    target.port = await listen(target.server);
    target.url = `https://127.0.0.1:${target.port}/`;
    targets.push(target);
  }
  agent = createAgent({
    source: staticSource(loadMaterial({ cert: client.chainPem, key: client.keyPem, ca: root.rootPem })),
    authorizeServer: SERVER_ID,
  });
});

afterAll(async () => {
  await agent?.close();
  for (const target of targets) {
    await close(target.server);
    await target.source.close();
  }
  await rm(base, { recursive: true, force: true });
});

interface Load {
  made: number;
  failed: number;
  fresh: number;
  failures: string[];
}

/**
 * A steady, bounded load: eight workers on keep-alive connections and one that opens a fresh
 * connection for each request (paced), each going round the four servers. At most nine requests in flight.
 */
function startLoad(): { load: Load; stop: () => Promise<void> } {
  const load: Load = { made: 0, failed: 0, fresh: 0, failures: [] };
  let running = true;
  const worker = async (offset: number, fresh: boolean) => {
    for (let i = offset; running; i++) {
      const target = targets[i % targets.length] as Target;
      load.made++;
      if (fresh) load.fresh++;
      try {
        const answer = await request(target.url, { dispatcher: agent, reset: fresh, headersTimeout: 5_000 });
        const body = await answer.body.text();
        if (answer.statusCode !== 200 || body !== 'ok') throw new Error(`HTTP ${answer.statusCode} ${body}`);
      } catch (error) {
        load.failed++;
        if (load.failures.length < 10) load.failures.push(`${target.writer.name}: ${String(error)}`);
      }
      // Fresh connections cost a full handshake each: pace them, so they do not starve the rest.
      if (fresh) await sleep(10);
      else await setImmediate();
    }
  };
  const workers = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => worker(n, false)).concat([worker(0, true)]);
  return {
    load,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** The serial number a brand-new connection (full handshake, no resumption) is served. */
async function servedToNewConnection(target: Target): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: target.port,
      cert: client.chainPem,
      key: client.keyPem,
      ca: root.rootPem,
      checkServerIdentity: () => undefined,
    });
    socket.setTimeout(2_000, () => socket.destroy(new Error('probe timed out')));
    socket.once('secureConnect', () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.end();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

async function pickupOf(target: Target, serial: string, since: number): Promise<number> {
  while (performance.now() - since < 3 * PICKUP_LIMIT_MS) {
    if ((await servedToNewConnection(target)) === serial) return performance.now() - since;
    await sleep(10);
  }
  return Number.POSITIVE_INFINITY;
}

async function errorAfter(target: Target, since: number, code: MeshlessErrorCode): Promise<void> {
  const deadline = performance.now() + 3_000;
  while (!target.errors.some((e) => e.at >= since && e.code === code)) {
    if (performance.now() > deadline) {
      const seen = target.errors.filter((e) => e.at >= since).map((e) => e.code);
      throw new Error(
        `${target.writer.name}: no ${code} error within 3 s (saw ${seen.join(', ') || 'none'})`,
      );
    }
    await sleep(10);
  }
}

interface Step {
  writer: string;
  kind: 'good' | 'bad';
  what: string;
  ms: number;
}

describe('rotation faults under load', () => {
  it(`every writer's rotations and bad updates, ≥${MIN_REQUESTS} requests, none failed`, async () => {
    const steps: Step[] = [];
    const good = new Map<Target, string[]>();
    const running = startLoad();
    let bad = 0;
    try {
      await sleep(200);
      for (const target of targets) {
        const serials = [target.source.current().leaf.serialNumber];
        let current: Files | undefined; // the files of the last good rotation
        for (let round = 0; round < GOOD_ROTATIONS; round++) {
          if (round > 0) {
            // A bad update: refused with its code; the last good certificate is still what new connections get.
            const update = BAD_UPDATES[bad++ % BAD_UPDATES.length] as BadUpdate;
            const files = await update.make(current as Files);
            const since = performance.now();
            await target.writer.write(target.dir, files);
            await errorAfter(target, since, update.code);
            const ms = performance.now() - since;
            for (let probe = 0; probe < 3; probe++) {
              expect(await servedToNewConnection(target), `${target.writer.name}, after ${update.name}`).toBe(
                serials.at(-1),
              );
              await sleep(50);
            }
            steps.push({
              writer: target.writer.name,
              kind: 'bad',
              what: `${update.name} → ${update.code}`,
              ms,
            });
          }
          // A good rotation: new connections get it within a second of the writer starting.
          const leaf = await goodLeaf();
          const serial = new X509Certificate(leaf.certPem).serialNumber;
          const since = performance.now();
          current = filesOf(leaf);
          await target.writer.write(target.dir, current);
          const ms = await pickupOf(target, serial, since);
          steps.push({ writer: target.writer.name, kind: 'good', what: serial, ms });
          serials.push(serial);
        }
        good.set(target, serials);
      }
      // Keep the same load on until enough requests have been made.
      const deadline = performance.now() + 60_000;
      while (running.load.made < MIN_REQUESTS && performance.now() < deadline) await sleep(50);
    } finally {
      await running.stop();
    }
    const { load } = running;
    const slow = steps.filter((s) => s.kind === 'good' && !(s.ms < PICKUP_LIMIT_MS));
    const pickups = steps.filter((s) => s.kind === 'good').map((s) => Math.round(s.ms));
    console.info(
      `rotation faults under load: ${load.made} requests (${load.fresh} on fresh connections), ${load.failed} failed; ` +
        `${pickups.length} good rotations picked up in ${Math.min(...pickups)}–${Math.max(...pickups)} ms; ` +
        `${bad} bad updates refused`,
    );
    expect(load.failures).toEqual([]);
    expect(load.failed).toBe(0);
    expect(load.made).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(slow, 'good rotations not served to new connections within a second').toEqual([]);
    expect(bad).toBe(targets.length * (GOOD_ROTATIONS - 1));
    // Only complete, good material was ever served: no half-written or refused state slipped through.
    for (const target of targets) {
      expect(target.served, target.writer.name).toEqual(good.get(target));
      expect(target.source.status().rotations).toBe(GOOD_ROTATIONS);
    }
  }, 120_000);
});
