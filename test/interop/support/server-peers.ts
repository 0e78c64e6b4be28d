// Foreign TLS servers that require and verify client certificates, for a meshless client to call:
// nginx (ssl_verify_client on), openssl s_server -Verify, a Python ssl server (CERT_REQUIRED) and a Go
// server (tls.RequireAndVerifyClientCert). Each presents the server credential of a set, trusts the
// set's CA for clients, and answers with what it saw of the client.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import type { CredentialSet } from './credentials.js';
import { PYTHON_SERVER } from './python-peer.js';
import { freePort, requireTool } from './tools.js';

export interface RunningPeer {
  port: number;
  stop(): Promise<void>;
}

/** What each server says about the verified client, parsed from its answer. */
export interface SeenClient {
  /** The client's SPIFFE ID (URI SAN) as the server read it, or its subject where the server cannot read SANs. */
  client: string;
  version: string;
}

export interface ServerPeer {
  name: string;
  start(set: CredentialSet, dir: string): Promise<RunningPeer>;
  /** Reads what the server saw of the client from the body of a 200 answer. */
  seen(body: string): SeenClient;
  /**
   * How the server refuses a client certificate it does not trust: with a TLS alert, or (nginx) with
   * an HTTP 400 answer after the handshake.
   */
  refusesUntrustedWith: 'alert' | 400;
}

/** Spawns a long-running server and resolves once `ready` yields its port; rejects if it exits or stalls. */
async function spawnServer(
  file: string,
  args: string[],
  ready: (output: string) => number | undefined,
  options: { cwd?: string } = {},
): Promise<RunningPeer> {
  const child = spawn(file, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready(output);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return { port, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Resolves once 127.0.0.1:`port` accepts connections (for nginx, which prints nothing when ready). */
async function waitForPort(port: number, isAlive: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`the server exited before listening on ${port}:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within 10 s:\n${output()}`);
}

const nginx: ServerPeer = {
  name: 'nginx',
  refusesUntrustedWith: 400,
  async start(set, dir) {
    const binary = requireTool('nginx');
    const prefix = join(dir, `nginx-${set.flavor}`);
    await mkdir(prefix, { recursive: true });
    const port = await freePort();
    const body = `{"server":"nginx","verify":"$ssl_client_verify","subject":"$ssl_client_s_dn","version":"$ssl_protocol"}`;
    const config = `
daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${set.server.files.chain};
    ssl_certificate_key ${set.server.files.key};
    ssl_client_certificate ${set.caFile};
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      default_type application/json;
      return 200 '${body}';
    }
  }
}
`;
    const configFile = join(prefix, 'nginx.conf');
    await writeFile(configFile, config);
    const child = spawn(binary, ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await waitForPort(
        port,
        () => child.exitCode === null && child.signalCode === null,
        () => output,
      );
    } catch (err) {
      await stopChild(child);
      throw err;
    }
    return { port, stop: () => stopChild(child) };
  },
  seen(body) {
    const answer = JSON.parse(body) as { verify: string; subject: string; version: string };
    if (answer.verify !== 'SUCCESS') throw new Error(`nginx did not verify the client: ${body}`);
    return { client: answer.subject, version: answer.version };
  },
};

const sServer: ServerPeer = {
  name: 'openssl s_server',
  refusesUntrustedWith: 'alert',
  async start(set) {
    const args = ['s_server', '-accept', '127.0.0.1:0', '-www', '-naccept', '1000'];
    const { cert, key, intermediates } = set.server.files;
    args.push('-cert', cert, '-key', key, ...(intermediates ? ['-cert_chain', intermediates] : []));
    args.push('-CAfile', set.caFile, '-Verify', '4', '-verify_return_error');
    return await spawnServer(requireTool('openssl'), args, (output) => {
      const match = /ACCEPT\s+\S*:(\d+)/.exec(output);
      return match ? Number(match[1]) : undefined;
    });
  },
  seen(body) {
    // -www answers with a status page: the session, then the client certificate printed in full.
    const uri = /URI:(spiffe:\/\/[^\s,]+)/.exec(body)?.[1];
    const version = /Protocol\s*:\s*(\S+)/.exec(body)?.[1];
    if (!uri || !version) throw new Error(`unexpected s_server page:\n${body}`);
    return { client: uri, version };
  },
};

const python: ServerPeer = {
  name: 'python ssl',
  refusesUntrustedWith: 'alert',
  async start(set) {
    const args = ['-c', PYTHON_SERVER, set.caFile, set.server.files.chain, set.server.files.key];
    return await spawnServer(requireTool('python3'), args, (output) => {
      const match = /LISTENING (\d+)/.exec(output);
      return match ? Number(match[1]) : undefined;
    });
  },
  seen(body) {
    const answer = JSON.parse(body) as { peer: string; version: string };
    return { client: answer.peer, version: answer.version };
  },
};

/** The Go server needs the binary built by buildGoPeer. */
export function goServer(binary: string): ServerPeer {
  return {
    name: 'go crypto/tls',
    refusesUntrustedWith: 'alert',
    async start(set) {
      const args = [
        'server',
        '-ca',
        set.caFile,
        '-cert',
        set.server.files.chain,
        '-key',
        set.server.files.key,
      ];
      return await spawnServer(binary, args, (output) => {
        const match = /LISTENING (\d+)/.exec(output);
        return match ? Number(match[1]) : undefined;
      });
    },
    seen(body) {
      const answer = JSON.parse(body) as { peer: string; version: string };
      return { client: answer.peer, version: answer.version };
    },
  };
}

/** nginx, s_server and Python; add {@link goServer} once built. */
export const SERVER_PEERS: ServerPeer[] = [nginx, sServer, python];
