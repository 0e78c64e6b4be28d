// A tiny gRPC service for the credential tests, defined from an inline proto: Whoami answers with
// what the server knows about the caller.

import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { grpcPeerOf } from '../../src/index.js';

const PROTO = `
syntax = "proto3";
package meshless.test;
service Echo {
  rpc Whoami (WhoamiRequest) returns (WhoamiReply);
}
message WhoamiRequest { string note = 1; }
message WhoamiReply { string caller = 1; string serial = 2; }
`;

export interface WhoamiReply {
  caller: string;
  serial: string;
}

const definition = fromJSON(protobuf.parse(PROTO, { keepCase: true }).root.toJSON(), { keepCase: true });
const { Echo } = (grpc.loadPackageDefinition(definition).meshless as grpc.GrpcObject).test as {
  Echo: grpc.ServiceClientConstructor;
};

export interface EchoServer {
  port: number;
  server: grpc.Server;
  close(): Promise<void>;
}

/** A grpc-js server with the Echo service on 127.0.0.1, port 0. */
export async function startEcho(credentials: grpc.ServerCredentials): Promise<EchoServer> {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Whoami(call: grpc.ServerUnaryCall<object, WhoamiReply>, callback: grpc.sendUnaryData<WhoamiReply>) {
      const peer = grpcPeerOf(call);
      callback(null, { caller: String(peer?.spiffeId ?? ''), serial: peer?.serialNumber ?? '' });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}

export interface EchoClient {
  whoami(deadlineMs?: number): Promise<WhoamiReply>;
  close(): void;
}

/** An Echo client on a new channel. */
export function echoClient(
  port: number,
  credentials: grpc.ChannelCredentials,
  options: object = {},
): EchoClient {
  const client = new Echo(`127.0.0.1:${port}`, credentials, options) as unknown as grpc.Client & {
    Whoami(
      request: object,
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, reply?: WhoamiReply) => void,
    ): void;
  };
  return {
    whoami: (deadlineMs = 5000) =>
      new Promise((resolve, reject) =>
        client.Whoami({ note: 'hi' }, { deadline: Date.now() + deadlineMs }, (error, reply) =>
          error ? reject(error) : resolve(reply as WhoamiReply),
        ),
      ),
    close: () => client.close(),
  };
}
