// The TypeScript shapes of the Workload API messages meshless uses, as @grpc/proto-loader decodes
// them with the options in load.ts (keepCase, bytes as Buffers, defaults filled in: a field the
// server left out reads as '' or an empty Buffer, so "empty" and "missing" are one check).

/** One X.509-SVID with its key and its trust domain's bundle (all DER). */
export interface X509SvidMessage {
  spiffe_id: string;
  /** DER certificates, concatenated, the leaf first. */
  x509_svid: Buffer;
  /** DER PKCS#8, unencrypted. */
  x509_svid_key: Buffer;
  /** DER certificates of the trust domain's bundle, concatenated. */
  bundle: Buffer;
  hint: string;
}

/** One message of the FetchX509SVID stream: the full current set, not a delta. */
export interface X509SvidResponseMessage {
  svids: X509SvidMessage[];
  crl: Buffer[];
  /** DER bundles of federated trust domains, keyed by the trust domain's SPIFFE ID (`spiffe://b.org`). */
  federated_bundles: Record<string, Buffer>;
}
