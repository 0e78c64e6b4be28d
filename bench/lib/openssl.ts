// `openssl s_server` as the native ceiling for handshakes: OpenSSL's own server, in C, with the same
// certificates, requiring and verifying a client certificate. It serves one connection at a time,
// which is no limit here: a single Node process is single-threaded too.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CertFiles } from './certs.js';
import { pinned } from './pinning.js';

/** Whether the `openssl` command is installed. */
export function opensslAvailable(): boolean {
  return !spawnSync('openssl', ['version']).error;
}

export interface RunningOpenssl {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address ? address.port : 0;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `openssl s_server -Verify 1 -www` on 127.0.0.1 and waits until it accepts connections. */
export async function startOpensslServer(certs: CertFiles): Promise<RunningOpenssl> {
  const port = await freePort();
  const [command, args] = pinned('server', 'openssl', [
    's_server',
    '-accept',
    `127.0.0.1:${port}`,
    '-cert',
    certs.serverCert,
    '-key',
    certs.serverKey,
    '-CAfile',
    certs.ca,
    // Require a client certificate and verify its chain, as the Node servers do.
    '-Verify',
    '1',
    '-www',
    '-quiet',
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = once(child, 'exit');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) {
      return {
        pid: child.pid!,
        port,
        stop: async () => {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('openssl s_server did not start');
}
