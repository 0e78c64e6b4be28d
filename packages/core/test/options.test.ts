import { describe, expect, it } from 'vitest';
import {
  applicationTlsOptions,
  assertKnownOptions,
  describeValue,
  invalidOption,
  isMeshlessError,
  refusedOption,
} from '../src/index.js';

const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

describe('option errors', () => {
  it('an unknown key throws ERR_MESHLESS_INVALID_OPTION with the closest known key', () => {
    const error = thrown(() =>
      assertKnownOptions('route GET /admin config.mtls', { authorise: 1 }, ['authorize', 'mode']),
    );
    expect(isMeshlessError(error, 'ERR_MESHLESS_INVALID_OPTION')).toBe(true);
    expect((error as Error).message).toBe(
      'route GET /admin config.mtls: unknown option "authorise"; did you mean "authorize"?',
    );
    expect((error as { context: object }).context).toMatchObject({
      input: 'authorise',
      expected: 'authorize',
    });
  });

  it('an unknown key far from every known one gets no suggestion', () => {
    expect((thrown(() => assertKnownOptions('f', { zzzzzz: 1 }, ['source'])) as Error).message).toBe(
      'f: unknown option "zzzzzz"',
    );
  });

  it('known keys pass', () => {
    expect(() => assertKnownOptions('f', { source: 1, mode: 2 }, ['source', 'mode'])).not.toThrow();
  });

  it.each([
    ['spiffe://example.org/a', 'the string "spiffe://example.org/a"'],
    [3, 'the number 3'],
    [false, 'the boolean false'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2], 'an array of 2'],
    [{}, 'an object'],
    [Buffer.alloc(4), 'a Buffer of 4 bytes'],
  ])('describes %s as %s', (value, description) => {
    expect(describeValue(value)).toBe(description);
  });

  it('invalidOption and refusedOption carry the code, the key and what was expected', () => {
    const bad = invalidOption('createAgent', 'maxConnectionAgeMs', -1, 'a positive number of milliseconds');
    expect(bad.code).toBe('ERR_MESHLESS_INVALID_OPTION');
    expect(bad.message).toBe(
      'createAgent: maxConnectionAgeMs must be a positive number of milliseconds; got the number -1',
    );
    const refused = refusedOption('createAgent', 'rejectUnauthorized', 'meshless always verifies the server');
    expect(refused.message).toMatch(/option "rejectUnauthorized" is not accepted: meshless always verifies/);
    expect(refused.context.input).toBe('rejectUnauthorized');
  });

  it('applicationTlsOptions keeps only the TLS keys, frozen, and refuses trust bypasses', () => {
    const picked = applicationTlsOptions('createServer', {
      minVersion: 'TLSv1.3',
      source: {},
      requestTimeout: 3,
    });
    expect(picked).toEqual({ minVersion: 'TLSv1.3' });
    expect(Object.isFrozen(picked)).toBe(true);
    expect(() => applicationTlsOptions('createServer', { privateKeyEngine: 'pkcs11' })).toThrow(
      /not accepted/,
    );
    expect(() => applicationTlsOptions('createServer', { allowPartialTrustChain: true })).toThrow(
      /not accepted/,
    );
  });
});
