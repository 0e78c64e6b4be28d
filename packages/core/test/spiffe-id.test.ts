import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshlessError, parseSpiffeId, parseTrustDomain, spiffeIdFromSegments } from '../src/index.js';

// Cases follow go-spiffe v2's spiffeid tests: each invalid input names the rule it breaks.
const invalid: [input: string, rule: string][] = [
  ['', 'empty'],
  ['example.org/workload', 'scheme'],
  ['SPIFFE://example.org/workload', 'scheme'],
  ['spiffe:/example.org/workload', 'scheme'],
  ['https://example.org/workload', 'scheme'],
  ['spiffe://', 'trust-domain-missing'],
  ['spiffe:///workload', 'trust-domain-missing'],
  ['spiffe://Example.org/workload', 'trust-domain-char'],
  ['spiffe://example.org:8080/workload', 'trust-domain-char'],
  ['spiffe://user@example.org/workload', 'trust-domain-char'],
  ['spiffe://exa%41mple.org/workload', 'trust-domain-char'],
  ['spiffe://example.org?x=1', 'trust-domain-char'],
  ['spiffe://example.org#frag', 'trust-domain-char'],
  ['spiffe://example.org/', 'path-trailing-slash'],
  ['spiffe://example.org/workload/', 'path-trailing-slash'],
  ['spiffe://example.org//workload', 'path-empty-segment'],
  ['spiffe://example.org/ns//sa', 'path-empty-segment'],
  ['spiffe://example.org/.', 'path-dot-segment'],
  ['spiffe://example.org/..', 'path-dot-segment'],
  ['spiffe://example.org/ns/../sa', 'path-dot-segment'],
  ['spiffe://example.org/work%20load', 'path-char'],
  ['spiffe://example.org/workload?x=1', 'path-char'],
  ['spiffe://example.org/workload#frag', 'path-char'],
  ['spiffe://example.org/wörk', 'path-char'],
  ['spiffe://example.org/a b', 'path-char'],
];

describe('parseSpiffeId', () => {
  it.each(invalid)('rejects %j (%s)', (input, rule) => {
    let thrown: unknown;
    try {
      parseSpiffeId(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MeshlessError);
    expect((thrown as MeshlessError).code).toBe('ERR_MESHLESS_SPIFFE_ID_INVALID');
    expect((thrown as MeshlessError).context.rule).toBe(rule);
    expect((thrown as MeshlessError).message).toContain('invalid SPIFFE ID');
  });

  it.each([
    'spiffe://example.org',
    'spiffe://example.org/workload',
    'spiffe://example.org/ns/prod/sa/web',
    'spiffe://a-b_c.0/A.b-C_9/...x/..y/.z',
    'spiffe://td/.../a',
  ])('accepts %j and formats it back unchanged', (input) => {
    const id = parseSpiffeId(input);
    expect(String(id)).toBe(input);
    expect(id.toString()).toBe(input);
    expect(JSON.stringify(id)).toBe(JSON.stringify(input));
  });

  it('splits trust domain, path and segments', () => {
    const id = parseSpiffeId('spiffe://example.org/ns/prod/sa/web');
    expect(id.trustDomain.name).toBe('example.org');
    expect(id.path).toBe('/ns/prod/sa/web');
    expect(id.segments()).toEqual(['ns', 'prod', 'sa', 'web']);
    expect(id.memberOf('example.org')).toBe(true);
    expect(id.memberOf('example.com')).toBe(false);
    expect(parseSpiffeId('spiffe://example.org').segments()).toEqual([]);
  });

  it('builds IDs from segments and validates each', () => {
    expect(String(spiffeIdFromSegments('example.org', 'ns', 'prod'))).toBe('spiffe://example.org/ns/prod');
    expect(String(parseTrustDomain('example.org').id('web'))).toBe('spiffe://example.org/web');
    expect(() => spiffeIdFromSegments('example.org', 'a/b', '..')).toThrow(MeshlessError);
    expect(() => spiffeIdFromSegments('example.org', '')).toThrow(/empty segments|trailing slash/);
  });

  it('property: a parsed ID formats back to its input', () => {
    const segment = fc.stringMatching(/^[a-zA-Z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
    const td = fc.stringMatching(/^[a-z0-9._-]{1,20}$/);
    fc.assert(
      fc.property(td, fc.array(segment, { maxLength: 6 }), (name, segments) => {
        const text = `spiffe://${name}${segments.map((s) => `/${s}`).join('')}`;
        expect(String(parseSpiffeId(text))).toBe(text);
      }),
    );
  });

  it('property: random strings only ever throw MeshlessError', () => {
    const near = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string().map((s) => `spiffe://${s}`),
      fc.string().map((s) => `spiffe://example.org/${s}`),
    );
    fc.assert(
      fc.property(near, (text) => {
        try {
          const id = parseSpiffeId(text);
          expect(String(id)).toBe(text);
        } catch (err) {
          expect(err).toBeInstanceOf(MeshlessError);
          expect((err as MeshlessError).code).toBe('ERR_MESHLESS_SPIFFE_ID_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseTrustDomain', () => {
  it('accepts a name or a SPIFFE ID', () => {
    expect(parseTrustDomain('example.org').name).toBe('example.org');
    expect(parseTrustDomain('spiffe://example.org/web').name).toBe('example.org');
    expect(parseTrustDomain('example.org').idString()).toBe('spiffe://example.org');
  });

  it.each(['', 'Example.org', 'example.org:443', 'spiffe://Bad/x', 'spiffe://'])('rejects %j', (input) => {
    expect(() => parseTrustDomain(input)).toThrow(
      expect.objectContaining({ code: 'ERR_MESHLESS_TRUST_DOMAIN_INVALID' }),
    );
  });
});
