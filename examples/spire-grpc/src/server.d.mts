import type * as grpc from '@grpc/grpc-js';
import type { CertificateSource } from '@meshless/core';

export declare function startOrdersServer(options: {
  source: CertificateSource;
  allowedCaller?: string;
  host?: string;
  port?: number;
}): Promise<{ port: number; server: grpc.Server; close(): Promise<void> }>;
