import { describe, expect, it } from 'vitest';
import { authorize, type PeerIdentity, parseSpiffeId } from '../src/index.js';

function peer(id?: string): PeerIdentity {
  return {
    ...(id ? { spiffeId: parseSpiffeId(id) } : {}),
    dnsNames: [],
    ipAddresses: [],
    uris: id ? [id] : [],
    subject: 'CN=x',
    issuer: 'CN=ca',
    serialNumber: '01',
    fingerprint256: 'AA',
    notBefore: new Date(0),
    notAfter: new Date(0),
  };
}

const web = peer('spiffe://example.org/ns/prod/sa/web');

describe('authorize', () => {
  it('denies when there is no verified peer, for every authorizer', () => {
    const all = [
      authorize.any(),
      authorize.id('spiffe://example.org/a'),
      authorize.oneOf('spiffe://example.org/a'),
      authorize.memberOf('example.org'),
      authorize.pattern('spiffe://example.org/**'),
      authorize.anyOf(authorize.any()),
      authorize.allOf(authorize.any()),
    ];
    for (const a of all) {
      const decision = a(undefined);
      expect(decision.allowed).toBe(false);
      expect(decision.reason).toMatch(/no verified peer/);
    }
  });

  it('any() allows any verified peer, even one without a SPIFFE ID', () => {
    expect(authorize.any()(peer()).allowed).toBe(true);
  });

  it('id-based authorizers deny a peer without a SPIFFE ID', () => {
    expect(authorize.memberOf('example.org')(peer())).toEqual({
      allowed: false,
      reason: 'peer certificate has no SPIFFE ID',
    });
  });

  it('id() and oneOf() match exact IDs only', () => {
    expect(authorize.id('spiffe://example.org/ns/prod/sa/web')(web).allowed).toBe(true);
    expect(authorize.id('spiffe://example.org/ns/prod/sa/we')(web).allowed).toBe(false);
    expect(authorize.id(parseSpiffeId('spiffe://example.org/ns/prod/sa/web'))(web).allowed).toBe(true);
    const either = authorize.oneOf('spiffe://example.org/a', 'spiffe://example.org/ns/prod/sa/web');
    expect(either(web)).toEqual({ allowed: true, reason: 'spiffe://example.org/ns/prod/sa/web is allowed' });
    expect(either(peer('spiffe://example.org/b')).reason).toBe(
      'spiffe://example.org/b is not an allowed SPIFFE ID',
    );
  });

  it('memberOf() matches the trust domain exactly', () => {
    expect(authorize.memberOf('example.org')(web).allowed).toBe(true);
    expect(authorize.memberOf('example.org')(peer('spiffe://example.org.evil.com/x')).allowed).toBe(false);
    expect(authorize.memberOf('org')(web).allowed).toBe(false);
  });

  const patternCases: [pattern: string, id: string, allowed: boolean][] = [
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/sa/web', true],
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/sa/webhook', false],
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/x/sa/web', false],
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/sa/web', false],
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.org/ns/prod/sa/web/extra', false],
    ['spiffe://example.org/ns/*/sa/web', 'spiffe://example.com/ns/prod/sa/web', false],
    ['spiffe://example.org/ns/prod/**', 'spiffe://example.org/ns/prod/sa/web', true],
    ['spiffe://example.org/ns/prod/**', 'spiffe://example.org/ns/prod/x', true],
    ['spiffe://example.org/ns/prod/**', 'spiffe://example.org/ns/prod', false],
    ['spiffe://example.org/ns/prod/**', 'spiffe://example.org/ns/production/x', false],
    ['spiffe://example.org/**', 'spiffe://example.org/anything/at/all', true],
    ['spiffe://example.org/sa/web', 'spiffe://example.org/sa/web', true],
    ['spiffe://example.org/sa/web', 'spiffe://example.org/sa/Web', false],
  ];
  it.each(patternCases)('pattern %s vs %s -> %s', (glob, id, allowed) => {
    expect(authorize.pattern(glob)(peer(id)).allowed).toBe(allowed);
  });

  it.each([
    'example.org/ns/*',
    'spiffe://example.org',
    'spiffe://*/ns/prod',
    'spiffe://example.org/ns/web*',
    'spiffe://example.org/ns/*web',
    'spiffe://example.org/**/sa/web',
    'spiffe://example.org/ns//x',
    'spiffe://example.org/ns/../x',
  ])('pattern %j is refused at construction', (glob) => {
    expect(() => authorize.pattern(glob)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
  });

  it('bad IDs and empty lists are refused at construction', () => {
    expect(() => authorize.id('spiffe://Example.org/x')).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
    expect(() => authorize.id()).toThrow(expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }));
    expect(() => authorize.oneOf()).toThrow(expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }));
    expect(() => authorize.anyOf()).toThrow(expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }));
    expect(() => authorize.allOf()).toThrow(expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }));
    expect(() => authorize.memberOf('Bad Domain')).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
  });

  it('anyOf() allows when one allows and explains every denial otherwise', () => {
    const policy = authorize.anyOf(
      authorize.id('spiffe://example.org/admin'),
      authorize.pattern('spiffe://example.org/ns/*/sa/web'),
    );
    expect(policy(web).allowed).toBe(true);
    const denied = policy(peer('spiffe://example.org/ns/prod/sa/db'));
    expect(denied.allowed).toBe(false);
    expect(denied.reason).toContain('is not an allowed SPIFFE ID');
    expect(denied.reason).toContain('does not match');
  });

  it('allOf() needs every authorizer and reports the first denial', () => {
    const policy = authorize.allOf(
      authorize.memberOf('example.org'),
      authorize.pattern('spiffe://example.org/ns/prod/**'),
    );
    expect(policy(web).allowed).toBe(true);
    const denied = policy(peer('spiffe://example.org/ns/dev/sa/web'));
    expect(denied).toEqual({
      allowed: false,
      reason: 'spiffe://example.org/ns/dev/sa/web does not match spiffe://example.org/ns/prod/**',
    });
  });
});

describe('authorize.audit', () => {
  it('allows everyone, records what enforcement would have decided', () => {
    const records: { wouldAllow: boolean; reason: string }[] = [];
    const policy = authorize.audit(authorize.id('spiffe://example.org/ns/prod/sa/web'), {
      onDecision: (r) => records.push(r),
    });
    const denied = policy(peer('spiffe://example.org/ns/prod/sa/db'));
    expect(denied).toEqual({
      allowed: true,
      enforced: false,
      wouldAllow: false,
      reason: 'audit: would deny: spiffe://example.org/ns/prod/sa/db is not an allowed SPIFFE ID',
    });
    expect(policy(web)).toEqual({
      allowed: true,
      enforced: false,
      wouldAllow: true,
      reason: 'spiffe://example.org/ns/prod/sa/web is allowed',
    });
    expect(policy(undefined).wouldAllow).toBe(false);
    expect(records.map((r) => r.wouldAllow)).toEqual([false, true, false]);
  });

  it('refuses a non-function at construction', () => {
    expect(() => authorize.audit('x' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_INVALID_OPTION' }),
    );
  });
});
