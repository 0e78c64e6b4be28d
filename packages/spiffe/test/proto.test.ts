import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { workloadApiDescriptor, workloadApiService } from '../src/index.js';

const protoText = readFileSync(new URL('../src/proto/workload.proto', import.meta.url), 'utf8');

describe('the Workload API definitions', () => {
  it('say what the specification’s workload.proto says', () => {
    const parsed = protobuf.parse(protoText, { keepCase: true });
    expect(parsed.imports).toEqual(['google/protobuf/struct.proto']);
    const { google, ...own } = workloadApiDescriptor.nested;
    expect(parsed.root.toJSON()).toEqual({ nested: own });
    // The inlined google.protobuf.Struct is struct.proto as protobuf.js bundles it, whose field names are
    // camelCase where ours keep the .proto's snake_case (the wire format only knows numbers).
    const struct = protobuf.Root.fromJSON(
      protobuf.common.get('google/protobuf/struct.proto') as protobuf.INamespace,
    );
    const expected = JSON.parse(JSON.stringify(struct.toJSON({ keepComments: false })));
    const mine = protobuf.Root.fromJSON({ nested: { google } } as protobuf.INamespace).toJSON();
    expect(Object.keys(mine.nested?.google ?? {}).length).toBeGreaterThan(0);
    expect(JSON.stringify(mine).toLowerCase().replace(/_/g, '')).toBe(
      JSON.stringify(expected).toLowerCase().replace(/_/g, ''),
    );
  });

  it('serve SpiffeWorkloadAPI under the path SPIRE serves it', () => {
    const service = workloadApiService();
    expect(service.FetchX509SVID?.path).toBe('/SpiffeWorkloadAPI/FetchX509SVID');
    expect(service.FetchX509SVID?.responseStream).toBe(true);
    expect(Object.keys(service)).toEqual([
      'FetchX509SVID',
      'FetchX509Bundles',
      'FetchJWTSVID',
      'FetchJWTBundles',
      'ValidateJWTSVID',
    ]);
  });

  it('encode X509SVIDResponse with the specification’s field numbers', () => {
    const message = {
      svids: [
        {
          spiffe_id: 'spiffe://a/b',
          x509_svid: Buffer.from([1]),
          x509_svid_key: Buffer.from([2]),
          bundle: Buffer.from([3]),
          hint: 'h',
        },
      ],
      crl: [],
      federated_bundles: {},
    };
    const bytes = workloadApiService().FetchX509SVID!.responseSerialize(message);
    // svids = field 1, length-delimited (tag 0x0a); inside: spiffe_id = 1 (0x0a), x509_svid = 2 (0x12),
    // x509_svid_key = 3 (0x1a), bundle = 4 (0x22), hint = 5 (0x2a).
    expect([...bytes]).toEqual([
      0x0a,
      26,
      0x0a,
      12,
      ...Buffer.from('spiffe://a/b'),
      0x12,
      1,
      1,
      0x1a,
      1,
      2,
      0x22,
      1,
      3,
      0x2a,
      1,
      0x68,
    ]);
  });
});
