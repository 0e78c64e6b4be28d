import * as grpc from '@grpc/grpc-js';
import { isMeshlessError, type MeshlessError } from '@meshless/core';
import { type CertificateAuthority, createCa } from '@meshless/pki';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type WorkloadApiSource,
  type WorkloadApiSourceOptions,
  workloadApiSource,
  type X509SvidResponseMessage,
} from '../src/index.js';
import { nextEvent, until } from './support/events.js';
import { responseOf, type TestSvid, TestWorkloadApi } from './support/workload-api-server.js';

const WEB = 'spiffe://example.org/ns/prod/sa/web';
const ADMIN = 'spiffe://example.org/ns/prod/sa/admin';

let ca: CertificateAuthority;
let partner: CertificateAuthority;
let agent: TestWorkloadApi;
const sources: WorkloadApiSource[] = [];

async function svid(spiffeId = WEB, extra: { hint?: string; ttl?: string } = {}): Promise<TestSvid> {
  const issued = await ca.issue({ spiffeId, ...(extra.ttl ? { ttl: extra.ttl } : {}) });
  return { ...issued, spiffeId, ...(extra.hint ? { hint: extra.hint } : {}) };
}

async function open(options: WorkloadApiSourceOptions = {}): Promise<WorkloadApiSource> {
  const source = await workloadApiSource({
    address: agent.address,
    startupTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  sources.push(source);
  return source;
}

async function startupError(options: WorkloadApiSourceOptions): Promise<MeshlessError> {
  const error = await open(options).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isMeshlessError(error)).toBe(true);
  return error as MeshlessError;
}

const idOf = (source: WorkloadApiSource) => source.current().identity.spiffeId?.toString();

beforeAll(async () => {
  ca = await createCa({ trustDomain: 'example.org' });
  partner = await createCa({ trustDomain: 'partner.org' });
});

beforeEach(async () => {
  agent = await TestWorkloadApi.start();
});

afterEach(async () => {
  for (const source of sources.splice(0)) await source.close();
  await agent.close();
});

describe('workloadApiSource start-up', () => {
  it('resolves on the first SVID, sending the workload.spiffe.io header, and serves the first SVID by default', async () => {
    const web = await svid();
    agent.respond({ svids: [web, await svid(ADMIN)] });
    const source = await open();
    expect(agent.headers).toEqual(['true']);
    expect(idOf(source)).toBe(WEB);
    expect(source.current().caPem).toBe(ca.caPem);
    expect(source.current().bundles).toBeUndefined();
    expect(source.status).toBe('serving');
  });

  it('picks by SPIFFE ID, by hint, or with a function', async () => {
    agent.respond({
      svids: [await svid(WEB, { hint: 'external' }), await svid(ADMIN, { hint: 'internal' })],
    });
    expect(idOf(await open({ pick: { spiffeId: ADMIN } }))).toBe(ADMIN);
    expect(idOf(await open({ pick: { hint: 'internal' } }))).toBe(ADMIN);
    expect(idOf(await open({ pick: { spiffeId: WEB, hint: 'external' } }))).toBe(WEB);
    expect(idOf(await open({ pick: (svids) => svids.find((s) => s.hint === 'external') }))).toBe(WEB);
  });

  it('keeps federated bundles per trust domain, apart from the own bundle', async () => {
    agent.respond({ svids: [await svid()], federatedBundles: { 'partner.org': partner.caPem } });
    const material = (await open()).current();
    expect(material.caPem).toBe(ca.caPem);
    expect([...(material.bundles ?? new Map()).entries()]).toEqual([
      ['example.org', ca.caPem],
      ['partner.org', partner.caPem],
    ]);
  });

  it('waits for an SVID to be granted: a denial at first is not the last word', async () => {
    agent.answerWith(grpc.status.PERMISSION_DENIED);
    setTimeout(async () => agent.respond({ svids: [await svid()] }), 300);
    expect(idOf(await open())).toBe(WEB);
    expect(agent.calls).toBeGreaterThan(1);
  });

  it.each([
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT],
    ['UNIMPLEMENTED', grpc.status.UNIMPLEMENTED],
  ])('rejects at once on %s, without retrying', async (name, code) => {
    agent.answerWith(code);
    const started = Date.now();
    const error = await startupError({});
    expect(error.code).toBe('ERR_MESHLESS_WORKLOAD_API_REFUSED');
    expect(error.context.grpcCode).toBe(name);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(agent.calls).toBe(1);
  });

  it('rejects with PERMISSION_DENIED when the denial lasts until the timeout', async () => {
    agent.answerWith(grpc.status.PERMISSION_DENIED);
    const error = await startupError({ startupTimeoutMs: 500 });
    expect(error.code).toBe('ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED');
  });

  it('rejects with UNAVAILABLE when no agent answers in time, and when no SVID matches pick', async () => {
    await agent.stop();
    const nobody = await startupError({ startupTimeoutMs: 400 });
    expect(nobody.code).toBe('ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE');
    expect(nobody.context.reason).toBe('startup-timeout');
    expect((nobody.cause as MeshlessError).code).toBe('ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE');
    await agent.restart();
    agent.respond({ svids: [await svid()] });
    const unmatched = await startupError({ startupTimeoutMs: 400, pick: { spiffeId: ADMIN } });
    expect(unmatched.code).toBe('ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE');
    expect((unmatched.cause as MeshlessError).code).toBe('ERR_MESHLESS_SVID_WITHDRAWN');
  });

  it('takes the address from SPIFFE_ENDPOINT_SOCKET, and refuses a missing or malformed one', async () => {
    agent.respond({ svids: [await svid()] });
    const saved = process.env.SPIFFE_ENDPOINT_SOCKET;
    try {
      process.env.SPIFFE_ENDPOINT_SOCKET = agent.address;
      const source = await workloadApiSource({ startupTimeoutMs: 5000 });
      sources.push(source);
      expect(idOf(source)).toBe(WEB);
      delete process.env.SPIFFE_ENDPOINT_SOCKET;
      await expect(workloadApiSource()).rejects.toMatchObject({
        code: 'ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID',
      });
      await expect(workloadApiSource({ address: agent.socketPath })).rejects.toMatchObject({
        code: 'ERR_MESHLESS_WORKLOAD_API_ADDRESS_INVALID',
      });
    } finally {
      if (saved === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
      else process.env.SPIFFE_ENDPOINT_SOCKET = saved;
    }
  });

  it('refuses bad options with ERR_MESHLESS_INVALID_OPTION', async () => {
    const invalid = { code: 'ERR_MESHLESS_INVALID_OPTION' };
    await expect(workloadApiSource({ address: agent.address, pick: {} })).rejects.toMatchObject(invalid);
    await expect(workloadApiSource({ address: agent.address, startupTimeoutMs: -1 })).rejects.toMatchObject(
      invalid,
    );
    await expect(
      workloadApiSource({ address: agent.address, backoff: { initialMs: 10, maxMs: 1 } }),
    ).rejects.toMatchObject(invalid);
    await expect(workloadApiSource({ address: agent.address, startupTimeoutMS: 5 } as never)).rejects.toThrow(
      /unknown option "startupTimeoutMS"; did you mean "startupTimeoutMs"\?/,
    );
    await expect(
      workloadApiSource({ address: agent.address, pick: { spiffeID: 'spiffe://example.org/x' } } as never),
    ).rejects.toThrow(/pick: unknown option "spiffeID"; did you mean "spiffeId"\?/);
  });
});

describe('each response is a full snapshot', () => {
  it('rotates to a new SVID, and ignores a response that changes nothing', async () => {
    agent.respond({ svids: [await svid()] });
    const source = await open();
    const first = source.current();
    const next = await svid();
    const update = nextEvent(source, 'update');
    agent.respond({ svids: [next] });
    const [material, previous] = await update;
    expect(previous).toBe(first);
    expect(material.identity.serialNumber).not.toBe(first.identity.serialNumber);
    let updates = 0;
    source.on('update', () => updates++);
    agent.respond({ svids: [next] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(updates).toBe(0);
  });

  it('moves the default to the new first SVID when the first one is dropped', async () => {
    agent.respond({ svids: [await svid(), await svid(ADMIN)] });
    const source = await open();
    const update = nextEvent(source, 'update');
    agent.respond({ svids: [await svid(ADMIN)] });
    await update;
    expect(idOf(source)).toBe(ADMIN);
  });

  it('withdraws the picked SVID when a response drops it, and serves it again when it returns', async () => {
    agent.respond({ svids: [await svid(WEB), await svid(ADMIN)] });
    const source = await open({ pick: { spiffeId: WEB } });
    source.on('error', () => {});
    const withdrawn = nextEvent(source, 'withdrawn');
    agent.respond({ svids: [await svid(ADMIN)] });
    const [error] = await withdrawn;
    expect(error.code).toBe('ERR_MESHLESS_SVID_WITHDRAWN');
    expect(source.status).toBe('withdrawn');
    expect(() => source.current()).toThrow(error);
    const back = nextEvent(source, 'update');
    agent.respond({ svids: [await svid(ADMIN), await svid(WEB)] });
    await back;
    expect(idOf(source)).toBe(WEB);
    expect(source.status).toBe('serving');
  });

  it('drops a federated bundle that a later response no longer holds', async () => {
    const web = await svid();
    agent.respond({ svids: [web], federatedBundles: { 'partner.org': partner.caPem } });
    const source = await open();
    const update = nextEvent(source, 'update');
    agent.respond({ svids: [web] });
    const [material] = await update;
    expect(material.bundles).toBeUndefined();
  });

  it('discards responses with empty mandatory fields or bad contents, keeping the last good SVID', async () => {
    const good = await svid();
    agent.respond({ svids: [good] });
    const source = await open();
    const served = source.current();
    const valid = responseOf({ svids: [good] });
    const [one] = valid.svids;
    const expired = await ca.issue({ spiffeId: WEB, ttl: 1000 });
    const bad = [
      ['no-svids', { ...valid, svids: [] }],
      ['empty-field', { ...valid, svids: [{ ...one!, x509_svid_key: Buffer.alloc(0) }] }],
      ['empty-field', { ...valid, svids: [{ ...one!, bundle: Buffer.alloc(0) }] }],
      ['empty-field', { ...valid, svids: [{ ...one!, spiffe_id: '' }] }],
      ['x509-svid', { ...valid, svids: [{ ...one!, x509_svid: Buffer.from([0x30, 0x03, 1, 2, 3]) }] }],
      ['x509-svid-key', { ...valid, svids: [{ ...one!, x509_svid_key: Buffer.from('junk') }] }],
      ['spiffe-id-mismatch', { ...valid, svids: [{ ...one!, spiffe_id: ADMIN }] }],
      ['federated-trust-domain', { ...valid, federated_bundles: { 'spiffe://Bad.Org': Buffer.from('x') } }],
    ] as const;
    for (const [rule, response] of bad) {
      const error = nextEvent(source, 'error');
      agent.respond(response as X509SvidResponseMessage);
      const [err] = await error;
      expect(err.code, rule).toBe('ERR_MESHLESS_WORKLOAD_API_RESPONSE_INVALID');
      expect(err.context.rule).toBe(rule);
      expect(source.current()).toBe(served);
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const refused = nextEvent(source, 'error');
    agent.respond({ svids: [{ ...expired, spiffeId: WEB }] });
    expect((await refused)[0].code).toBe('ERR_MESHLESS_CERT_EXPIRED');
    expect(source.current()).toBe(served);
    expect(source.status).toBe('serving');
  });
});

describe('when the agent goes away', () => {
  it('serves the last good SVID, reports the outage once, and takes the SVID of the restarted agent', async () => {
    agent.respond({ svids: [await svid()] });
    const source = await open();
    const served = source.current();
    const errors: MeshlessError[] = [];
    source.on('error', (err) => errors.push(err));
    await agent.stop();
    await until(() => source.status === 'reconnecting', 'the source to notice the outage');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(source.current()).toBe(served);
    expect(errors.map((e) => e.code)).toEqual(['ERR_MESHLESS_WORKLOAD_API_UNAVAILABLE']);
    await agent.restart();
    const update = nextEvent(source, 'update');
    agent.respond({ svids: [await svid()] });
    const [material] = await update;
    expect(material).not.toBe(served);
    expect(source.status).toBe('serving');
  });

  it('reconnects when the agent ends the stream', async () => {
    agent.respond({ svids: [await svid()] });
    const source = await open();
    source.on('error', () => {});
    agent.endStreams();
    await until(() => agent.calls >= 2 && agent.openStreams === 1, 'a new stream');
    // The source serves again once the new stream's first answer arrives, not when the stream opens
    // (on a busy machine that is later, as the full suite on Node 22 to 26 showed).
    await until(() => source.status === 'serving', 'serving again');
    expect(source.status).toBe('serving');
  });

  it('raises expiring and expired for the last good SVID while the agent is away', async () => {
    agent.respond({ svids: [await svid(WEB, { ttl: '2s' })] });
    const source = await open();
    source.on('error', () => {});
    const expiring = nextEvent(source, 'expiring', 3000);
    const expired = nextEvent(source, 'expired', 5000);
    await agent.stop();
    expect((await expiring)[0]).toMatchObject({ role: 'leaf', spiffeId: WEB });
    expect((await expired)[0]).toMatchObject({ role: 'leaf', spiffeId: WEB });
    expect(idOf(source)).toBe(WEB);
  });
});

describe('error statuses after start-up', () => {
  it('PERMISSION_DENIED withdraws the SVID until one is granted again', async () => {
    const web = await svid();
    agent.respond({ svids: [web] });
    const source = await open();
    const errors: string[] = [];
    source.on('error', (err) => errors.push(err.code));
    const withdrawn = nextEvent(source, 'withdrawn');
    agent.answerWith(grpc.status.PERMISSION_DENIED, 'no identity issued');
    const [error] = await withdrawn;
    expect(error.code).toBe('ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED');
    expect(errors).toEqual(['ERR_MESHLESS_WORKLOAD_API_PERMISSION_DENIED']);
    expect(source.status).toBe('withdrawn');
    expect(() => source.current()).toThrow(/PERMISSION_DENIED/);
    const back = nextEvent(source, 'update');
    agent.respond({ svids: [web] });
    await back;
    expect(idOf(source)).toBe(WEB);
    expect(source.status).toBe('serving');
  });

  it.each([
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT],
    ['UNIMPLEMENTED', grpc.status.UNIMPLEMENTED],
  ])('%s stops the source without retrying; the last good SVID is served', async (name, code) => {
    agent.respond({ svids: [await svid()] });
    const source = await open();
    const served = source.current();
    const error = nextEvent(source, 'error');
    agent.answerWith(code);
    expect((await error)[0]).toMatchObject({
      code: 'ERR_MESHLESS_WORKLOAD_API_REFUSED',
      context: { grpcCode: name },
    });
    const calls = agent.calls;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.calls).toBe(calls);
    expect(source.status).toBe('stopped');
    expect(source.current()).toBe(served);
  });

  it('close() ends the stream and releases the socket', async () => {
    agent.respond({ svids: [await svid()] });
    const source = await open();
    expect(agent.openStreams).toBe(1);
    await source.close();
    await until(() => agent.openStreams === 0, 'the stream to close');
    expect(source.status).toBe('closed');
  });
});

afterAll(() => {
  expect(sources).toEqual([]);
});
