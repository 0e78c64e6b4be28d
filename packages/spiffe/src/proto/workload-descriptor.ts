// The SPIFFE Workload API's messages and service, written from the specification's workload.proto
// (kept next to this file) as a protobuf.js JSON descriptor, so that @grpc/proto-loader loads it
// with `fromJSON()`: no .proto file to ship or find at run time, no parser. Field names are the
// specification's own (snake_case); test/proto.test.ts parses workload.proto and checks that both
// say the same.

const bytes = (id: number) => ({ type: 'bytes', id });
const string = (id: number) => ({ type: 'string', id });
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const map = (type: string, id: number) => ({ keyType: 'string', type, id });

/**
 * The Workload API as a protobuf.js JSON descriptor (what `Root.toJSON()` gives for workload.proto,
 * with google/protobuf/struct.proto inlined), for `@grpc/proto-loader`'s `fromJSON()`.
 *
 * @example
 * ```ts
 * import { fromJSON } from '@grpc/proto-loader';
 * const definition = fromJSON(workloadApiDescriptor, { keepCase: true });
 * ```
 */
export const workloadApiDescriptor = {
  nested: {
    X509SVIDRequest: { fields: {} },
    X509SVIDResponse: {
      fields: {
        svids: repeated('X509SVID', 1),
        crl: repeated('bytes', 2),
        federated_bundles: map('bytes', 3),
      },
    },
    X509SVID: {
      fields: {
        spiffe_id: string(1),
        x509_svid: bytes(2),
        x509_svid_key: bytes(3),
        bundle: bytes(4),
        hint: string(5),
      },
    },
    X509BundlesRequest: { fields: {} },
    X509BundlesResponse: {
      fields: {
        crl: repeated('bytes', 1),
        bundles: map('bytes', 2),
      },
    },
    JWTSVIDRequest: {
      fields: {
        audience: repeated('string', 1),
        spiffe_id: string(2),
      },
    },
    JWTSVIDResponse: { fields: { svids: repeated('JWTSVID', 1) } },
    JWTSVID: {
      fields: {
        spiffe_id: string(1),
        svid: string(2),
        hint: string(3),
      },
    },
    JWTBundlesRequest: { fields: {} },
    JWTBundlesResponse: { fields: { bundles: map('bytes', 1) } },
    ValidateJWTSVIDRequest: {
      fields: {
        audience: string(1),
        svid: string(2),
      },
    },
    ValidateJWTSVIDResponse: {
      fields: {
        spiffe_id: string(1),
        claims: { type: 'google.protobuf.Struct', id: 2 },
      },
    },
    SpiffeWorkloadAPI: {
      methods: {
        FetchX509SVID: {
          requestType: 'X509SVIDRequest',
          responseType: 'X509SVIDResponse',
          responseStream: true,
        },
        FetchX509Bundles: {
          requestType: 'X509BundlesRequest',
          responseType: 'X509BundlesResponse',
          responseStream: true,
        },
        FetchJWTSVID: { requestType: 'JWTSVIDRequest', responseType: 'JWTSVIDResponse' },
        FetchJWTBundles: {
          requestType: 'JWTBundlesRequest',
          responseType: 'JWTBundlesResponse',
          responseStream: true,
        },
        ValidateJWTSVID: { requestType: 'ValidateJWTSVIDRequest', responseType: 'ValidateJWTSVIDResponse' },
      },
    },
    // google/protobuf/struct.proto, which ValidateJWTSVIDResponse imports.
    google: {
      nested: {
        protobuf: {
          nested: {
            Struct: { fields: { fields: map('Value', 1) } },
            Value: {
              oneofs: {
                kind: {
                  oneof: [
                    'null_value',
                    'number_value',
                    'string_value',
                    'bool_value',
                    'struct_value',
                    'list_value',
                  ],
                },
              },
              fields: {
                null_value: { type: 'NullValue', id: 1 },
                number_value: { type: 'double', id: 2 },
                string_value: string(3),
                bool_value: { type: 'bool', id: 4 },
                struct_value: { type: 'Struct', id: 5 },
                list_value: { type: 'ListValue', id: 6 },
              },
            },
            NullValue: { values: { NULL_VALUE: 0 } },
            ListValue: { fields: { values: repeated('Value', 1) } },
          },
        },
      },
    },
  },
};
