export type { WorkloadApiAddress } from './address.js';
export { parseWorkloadApiAddress, SPIFFE_ENDPOINT_SOCKET } from './address.js';
export type { BackoffOptions } from './backoff.js';
export type { GrpcChannelCredentialsOptions } from './grpc/channel-credentials.js';
export { grpcChannelCredentials } from './grpc/channel-credentials.js';
export { grpcPeerOf } from './grpc/peer.js';
export type { GrpcServerCredentialsOptions } from './grpc/server-credentials.js';
export { grpcServerCredentials } from './grpc/server-credentials.js';
export { SourceCertificateProvider } from './grpc/source-certificate-provider.js';
export type { JwtSvidAlgorithm } from './jwt/algorithms.js';
export { JWT_SVID_ALGORITHMS } from './jwt/algorithms.js';
export type { JwtBundleSource } from './jwt/bundle-source.js';
export { jwtBundleSet } from './jwt/bundle-source.js';
export type { FetchJwtSvidsOptions } from './jwt/fetch-jwt-svids.js';
export { fetchJwtSvids } from './jwt/fetch-jwt-svids.js';
export type { MissingUse, ParseJwtBundleOptions } from './jwt/jwt-bundle.js';
export { JwtBundle, parseJwtBundle } from './jwt/jwt-bundle.js';
export type { JwtBundleFileEvents, JwtBundleFileOptions } from './jwt/jwt-bundle-file.js';
export { JwtBundleFileSource, jwtBundleFileSource } from './jwt/jwt-bundle-file.js';
export type { JwtSvid } from './jwt/jwt-svid.js';
export type { JwtSvidPeerIdentity } from './jwt/jwt-svid-identity.js';
export { jwtSvidIdentity } from './jwt/jwt-svid-identity.js';
export type { JwtSvidSource, JwtSvidSourceOptions } from './jwt/jwt-svid-source.js';
export { jwtSvidSource, withJwtSvid } from './jwt/jwt-svid-source.js';
export type { ValidateJwtSvidOptions } from './jwt/validate-jwt-svid.js';
export { validateJwtSvid } from './jwt/validate-jwt-svid.js';
export type {
  WorkloadApiJwtBundlesEvents,
  WorkloadApiJwtBundlesOptions,
} from './jwt/workload-api-jwt-bundles.js';
export { WorkloadApiJwtBundles, workloadApiJwtBundles } from './jwt/workload-api-jwt-bundles.js';
export type { WorkloadApiSourceOptions } from './options.js';
export type { SvidChoice, SvidPick } from './pick.js';
export { workloadApiService } from './proto/load.js';
export type { X509SvidMessage, X509SvidResponseMessage } from './proto/messages.js';
export { workloadApiDescriptor } from './proto/workload-descriptor.js';
export { WORKLOAD_API_HEADER } from './stream.js';
export type { WorkloadApiStatus } from './workload-api-source.js';
export { WorkloadApiSource, workloadApiSource } from './workload-api-source.js';
