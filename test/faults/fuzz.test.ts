// Property tests (fast-check) on the parsers and decisions that face untrusted input: the SPIFFE ID
// parser, the PEM loader, identity extraction and the authorizers. Whatever the input, they return
// or throw a MeshlessError, never anything else; the parser agrees with an independent model of the
// grammar; and an authorizer never allows an ID that does not match it.
import {
  authorize,
  decodePem,
  identityFromCertificate,
  isMeshlessError,
  loadMaterial,
  type PeerIdentity,
  parseSpiffeId,
  parseTrustDomain,
  readPrivateKey,
} from '@meshless/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeIntermediate, makeLeaf, makeRoot, type TestCa } from '../support/certs.js';

/** Runs `fn`; a MeshlessError counts as a valid outcome, anything else thrown fails the property. */
function onlyMeshlessErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (isMeshlessError(err)) return undefined;
    throw new Error(`threw something other than a MeshlessError: ${String(err)}`, { cause: err });
  }
}

// --- an independent model of the SPIFFE ID grammar (spiffe/spiffe standard, go-spiffe v2) ---------

const SPIFFE_ID_MODEL = /^spiffe:\/\/[a-z0-9._-]+(\/[a-zA-Z0-9._-]+)*$/;
function validByModel(text: string): boolean {
  if (!SPIFFE_ID_MODEL.test(text)) return false;
  const path = text.slice('spiffe://'.length).split('/').slice(1);
  return path.every((segment) => segment !== '.' && segment !== '..');
}

// Pieces that land near the grammar's edges: the scheme, separators, dots, case, escapes, Unicode.
const ID_PIECES = [
  'spiffe://',
  'SPIFFE://',
  'spiffe:',
  '//',
  '/',
  '.',
  '..',
  'a',
  'Z',
  '0',
  '-',
  '_',
  'example.org',
  'ns',
  'web',
  '%2F',
  '?',
  '#',
  '@',
  ':',
  ':8080',
  ' ',
  '\u0000',
  'é',
  '\u212a', // KELVIN SIGN, lower-cases to k
  '\n',
];
const nearlyIds = fc.array(fc.constantFrom(...ID_PIECES), { maxLength: 12 }).map((pieces) => pieces.join(''));
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 64 }), nearlyIds);
const trustDomains = fc.stringMatching(/^[a-z0-9._-]{1,20}$/);
const segment = fc.stringMatching(/^[a-zA-Z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const validIds = fc
  .tuple(trustDomains, fc.array(segment, { maxLength: 6 }))
  .map(([td, segments]) => `spiffe://${td}${segments.map((s) => `/${s}`).join('')}`);

describe('parseSpiffeId', () => {
  it('accepts exactly what the grammar allows, and gives back its input unchanged', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          validIds,
          validIds.map((id) => `${id}/`),
        ),
        (text) => {
          const id = onlyMeshlessErrors(() => parseSpiffeId(text));
          expect(id !== undefined, JSON.stringify(text)).toBe(validByModel(text));
          if (id) expect(String(id)).toBe(text);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('throws only ERR_MESHLESS_SPIFFE_ID_INVALID, and parseTrustDomain only ERR_MESHLESS_TRUST_DOMAIN_INVALID', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const [parse, code] of [
          [parseSpiffeId, 'ERR_MESHLESS_SPIFFE_ID_INVALID'],
          [parseTrustDomain, 'ERR_MESHLESS_TRUST_DOMAIN_INVALID'],
        ] as const) {
          try {
            parse(text);
          } catch (err) {
            expect(isMeshlessError(err, code), String(err)).toBe(true);
          }
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

// --- the PEM loader ---------------------------------------------------------------------------

let root: TestCa;
let good: { cert: string; key: string; ca: string };
let leafDer: Uint8Array;

beforeAll(async () => {
  root = await makeRoot();
  const leaf = await makeLeaf(await makeIntermediate(root), { ipAddresses: ['127.0.0.1'] });
  good = { cert: leaf.chainPem, key: leaf.keyPem, ca: leaf.caPem };
  leafDer = new Uint8Array(leaf.cert.rawData);
});

/** Mutations of a good PEM text: the ways a file gets damaged. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: anyText }),
  fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const) }),
  fc.record({ kind: fc.constant('crlf' as const) }),
);
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function applyDamage(text: string, d: Damage): string {
  const at = 'at' in d ? d.at % (text.length + 1) : 0;
  switch (d.kind) {
    case 'truncate':
      return text.slice(0, at);
    case 'replace':
      return text.slice(0, at) + d.text + text.slice(at + d.text.length);
    case 'insert':
      return text.slice(0, at) + d.text + text.slice(at);
    case 'drop-line': {
      const lines = text.split('\n');
      lines.splice(d.at % lines.length, 1);
      return lines.join('\n');
    }
    case 'duplicate':
      return text + text;
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
  }
}

describe('the PEM loader', () => {
  it('decodePem and readPrivateKey throw only MeshlessErrors, for any text or bytes', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.uint8Array({ maxLength: 2048 })), (input) => {
        onlyMeshlessErrors(() => decodePem(input, 'cert'));
        onlyMeshlessErrors(() => readPrivateKey(input));
      }),
      { numRuns: 1_000 },
    );
  });

  it('loadMaterial throws only MeshlessErrors when any of its files is damaged', () => {
    fc.assert(
      fc.property(fc.constantFrom('cert' as const, 'key' as const, 'ca' as const), damage, (which, d) => {
        const input = { ...good, [which]: applyDamage(good[which], d) };
        const material = onlyMeshlessErrors(() => loadMaterial(input));
        // What is accepted is still the one good certificate: damage never yields another identity.
        if (material)
          expect(material.leaf.fingerprint256).toBe(identityFromCertificate(good.cert).fingerprint256);
      }),
      { numRuns: 150 },
    );
  });

  it('loadMaterial throws only MeshlessErrors for arbitrary files', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, fc.uint8Array({ maxLength: 1024 })),
        fc.constantFrom('cert' as const, 'key' as const, 'ca' as const),
        (junk, which) => {
          expect(onlyMeshlessErrors(() => loadMaterial({ ...good, [which]: junk }))).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

// --- identity extraction ------------------------------------------------------------------------

describe('identityFromCertificate', () => {
  it('throws only MeshlessErrors for arbitrary bytes and text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2048 }), anyText), (input) => {
        onlyMeshlessErrors(() => identityFromCertificate(input));
      }),
      { numRuns: 1_000 },
    );
  });

  it('throws only MeshlessErrors for a certificate with corrupted bytes, and keeps its invariants', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const der = new Uint8Array(leafDer);
          for (const [at, mask] of flips) der[at % der.length] = (der[at % der.length] as number) ^ mask;
          const identity = onlyMeshlessErrors(() => identityFromCertificate(der));
          if (identity?.spiffeId) {
            expect(identity.uris).toEqual([String(identity.spiffeId)]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a SPIFFE ID exactly when the certificate has one URI SAN that is a valid SPIFFE ID', async () => {
    const uri = fc.oneof(
      validIds,
      nearlyIds.filter((s) => /^[\x21-\x7e]+$/.test(s)).map((s) => `spiffe://${s}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(uri, { maxLength: 3 }), async (uris) => {
        const leaf = await makeLeaf(root, { uris, dnsNames: ['web.internal'] });
        const identity = identityFromCertificate(leaf.certPem);
        expect(identity.uris).toEqual(uris);
        const expected = uris.length === 1 && validByModel(uris[0] as string) ? uris[0] : undefined;
        expect(identity.spiffeId === undefined ? undefined : String(identity.spiffeId)).toBe(expected);
      }),
      { numRuns: 60 },
    );
  });
});

// --- authorizers --------------------------------------------------------------------------------

const TRUST_DOMAINS = ['example.org', 'example.com', 'other.org'];
const WORDS = ['ns', 'prod', 'dev', 'sa', 'web', 'webhook', 'we', 'api', 'a'];
const word = fc.constantFrom(...WORDS);
const ids = fc
  .tuple(fc.constantFrom(...TRUST_DOMAINS), fc.array(word, { maxLength: 5 }))
  .map(([td, segments]) => parseSpiffeId(`spiffe://${td}${segments.map((s) => `/${s}`).join('')}`));
const patterns = fc
  .tuple(
    fc.constantFrom(...TRUST_DOMAINS),
    fc.array(fc.oneof(word, fc.constant('*')), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([td, segments, rest]) => `spiffe://${td}/${[...segments, ...(rest ? ['**'] : [])].join('/')}`);

/** The pattern semantics as a regular expression: `*` one whole segment, a final `**` one or more. */
function matchesByModel(pattern: string, id: string): boolean {
  const source = pattern
    .split('/')
    .map((part, index, parts) => {
      if (part === '**' && index === parts.length - 1) return '[^/]+(?:/[^/]+)*';
      if (part === '*') return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`).test(id);
}

function peer(id: ReturnType<typeof parseSpiffeId> | undefined): PeerIdentity {
  const now = new Date();
  return {
    ...(id ? { spiffeId: id } : {}),
    dnsNames: [],
    ipAddresses: [],
    uris: id ? [String(id)] : [],
    subject: 'CN=fuzz',
    issuer: 'CN=fuzz',
    serialNumber: '01',
    fingerprint256: '00',
    notBefore: now,
    notAfter: now,
  };
}

/** A pattern with its wildcards filled in: an ID that must match. */
const matchingPair = patterns.chain((pattern) => {
  const parts = pattern.slice('spiffe://'.length).split('/');
  const fill = parts.map((part) =>
    part === '*'
      ? word
      : part === '**'
        ? fc.array(word, { minLength: 1, maxLength: 3 }).map((w) => w.join('/'))
        : fc.constant(part),
  );
  return fc.tuple(
    fc.constant(pattern),
    fc.tuple(...fill).map((filled) => parseSpiffeId(`spiffe://${filled.join('/')}`)),
  );
});

describe('authorize.pattern', () => {
  it('allows an ID exactly when it matches the pattern (random IDs)', () => {
    fc.assert(
      fc.property(patterns, ids, (pattern, id) => {
        const decision = authorize.pattern(pattern)(peer(id));
        expect(decision.allowed, `${pattern} vs ${id}`).toBe(matchesByModel(pattern, String(id)));
        expect(typeof decision.reason).toBe('string');
      }),
      { numRuns: 3_000 },
    );
  });

  it('allows the IDs made by filling in its wildcards', () => {
    fc.assert(
      fc.property(matchingPair, ([pattern, id]) => {
        expect(authorize.pattern(pattern)(peer(id)).allowed, `${pattern} vs ${id}`).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never allows a peer without a SPIFFE ID, or no peer', () => {
    fc.assert(
      fc.property(patterns, (pattern) => {
        expect(authorize.pattern(pattern)(peer(undefined)).allowed).toBe(false);
        expect(authorize.pattern(pattern)(undefined).allowed).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a malformed pattern at construction with ERR_MESHLESS_INVALID_OPTION, never later', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          authorize.pattern(text);
        } catch (err) {
          expect(err).toMatchObject({ code: 'ERR_MESHLESS_INVALID_OPTION' });
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('the other authorizers', () => {
  it('id, memberOf, anyOf and allOf decide exactly by their definition', () => {
    fc.assert(
      fc.property(
        fc.array(ids, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...TRUST_DOMAINS),
        ids,
        (allowedIds, td, id) => {
          const listed = allowedIds.map(String).includes(String(id));
          const member = id.trustDomain.name === td;
          expect(authorize.id(...allowedIds)(peer(id)).allowed).toBe(listed);
          expect(authorize.memberOf(td)(peer(id)).allowed).toBe(member);
          expect(authorize.anyOf(authorize.id(...allowedIds), authorize.memberOf(td))(peer(id)).allowed).toBe(
            listed || member,
          );
          expect(authorize.allOf(authorize.id(...allowedIds), authorize.memberOf(td))(peer(id)).allowed).toBe(
            listed && member,
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
