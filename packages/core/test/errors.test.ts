import { describe, expect, it } from 'vitest';
import { isMeshlessError, MeshlessError } from '../src/index.js';

describe('MeshlessError', () => {
  it('carries code, context and cause', () => {
    const cause = new Error('low level');
    const err = new MeshlessError(
      'ERR_MESHLESS_KEY_MISMATCH',
      'key does not match',
      { input: 'key', file: '/tmp/k' },
      cause,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_MESHLESS_KEY_MISMATCH');
    expect(err.context).toEqual({ input: 'key', file: '/tmp/k' });
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('MeshlessError');
    expect(isMeshlessError(err, 'ERR_MESHLESS_KEY_MISMATCH')).toBe(true);
    expect(isMeshlessError(err, 'ERR_MESHLESS_PEM_INVALID')).toBe(false);
    expect(isMeshlessError(new Error('x'))).toBe(false);
  });

  it('keeps its identity across two copies of the package', async () => {
    // A second, independent module instance stands for a second copy of @meshless/core in node_modules.
    // @ts-expect-error vitest resolves the query string to a fresh module; TypeScript cannot resolve it.
    const copy = (await import('../src/errors.js?second-copy')) as typeof import('../src/errors.js');
    expect(copy.MeshlessError).not.toBe(MeshlessError);
    const foreign = new copy.MeshlessError('ERR_MESHLESS_PEM_INVALID', 'from the other copy');
    expect(foreign).toBeInstanceOf(MeshlessError);
    expect(isMeshlessError(foreign, 'ERR_MESHLESS_PEM_INVALID')).toBe(true);
    expect(new MeshlessError('ERR_MESHLESS_PEM_INVALID', 'x')).toBeInstanceOf(copy.MeshlessError);
    expect({ code: 'ERR_MESHLESS_PEM_INVALID' }).not.toBeInstanceOf(MeshlessError);
  });
});
