// The sidecar model: nginx (the Debian package) terminates mutual TLS on 127.0.0.1 and proxies over
// keep-alive connections to a plaintext node:http app, as a mesh sidecar does for its pod. Started by
// the benchmark with its own configuration and prefix, so that nothing of the system's nginx is used.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CertFiles } from './certs.js';
import { pinned } from './pinning.js';
import { childPids } from './proc.js';
import { underWrapper, type Wrapper } from './wrapper.js';

/** Where the Debian package installs nginx; BENCH_NGINX overrides it. */
export const NGINX = process.env.BENCH_NGINX ?? '/usr/sbin/nginx';

/** nginx's version line, or undefined when it is not installed. */
export function nginxVersion(): string | undefined {
  // nginx -v prints on stderr.
  const result = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return result.error ? undefined : `${result.stdout}${result.stderr}`.trim();
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * The configuration. One worker by default (BENCH_NGINX_WORKERS to change it): the app behind it is
 * one single-threaded Node process, so the sidecar model runs two busy processes where meshless runs
 * one. Keep-alive limits are raised so that neither side reconnects during a run, and the peer check
 * is nginx's own: the chain is verified in the handshake, the subject authorized with a map (nginx
 * cannot read URI SANs, so it cannot authorize the SPIFFE ID), and the app gets the peer in an
 * X-Forwarded-Client-Cert header, as behind Envoy.
 */
export function nginxConfig(options: {
  prefix: string;
  port: number;
  appPort: number;
  certs: CertFiles;
  subject: string;
  workers: number;
  /** No master: the one process serves the connections itself (for counting it under valgrind). */
  singleProcess?: boolean;
}): string {
  const { prefix, port, appPort, certs, subject, workers } = options;
  return `worker_processes ${workers};
daemon off;
master_process ${options.singleProcess ? 'off' : 'on'};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  map $ssl_client_s_dn $peer_allowed { "${subject}" 1; default 0; }
  upstream app {
    server 127.0.0.1:${appPort};
    keepalive 512;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certs.serverCert};
    ssl_certificate_key ${certs.serverKey};
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    location / {
      if ($peer_allowed = 0) { return 403; }
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-Client-Cert "Hash=$ssl_client_fingerprint;Subject=\\"$ssl_client_s_dn\\"";
    }
  }
}
`;
}

/** A running nginx: its port, and the pids of its master and workers. */
export interface RunningNginx {
  port: number;
  pids: number[];
  stop(): Promise<void>;
}

/** The client certificate's subject as nginx prints $ssl_client_s_dn (RFC 2253, here one CN). */
async function subjectOf(certPath: string): Promise<string> {
  const cert = new X509Certificate(await readFile(certPath));
  return cert.subject.split('\n').reverse().join(',');
}

async function accepts(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/**
 * Starts nginx in front of the app listening on `appPort`, under `prefix`. With `wrapper`
 * (valgrind), nginx runs as one process without a master, under that command.
 */
export async function startNginx(
  prefix: string,
  appPort: number,
  certs: CertFiles,
  wrapper?: Wrapper,
): Promise<RunningNginx> {
  await mkdir(prefix, { recursive: true });
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  const workers = Number(process.env.BENCH_NGINX_WORKERS ?? 1);
  await writeFile(
    conf,
    nginxConfig({
      prefix,
      port,
      appPort,
      certs,
      subject: await subjectOf(certs.clientCert),
      workers,
      singleProcess: wrapper !== undefined,
    }),
  );
  const nginxArgs = ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')];
  if (wrapper) return startSingleNginx(prefix, port, underWrapper(wrapper, NGINX, nginxArgs));
  // On the servers' CPU, like the other servers; the workers inherit the master's affinity.
  const [command, args] = pinned('server', NGINX, nginxArgs);
  const master: ChildProcess = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = once(master, 'exit');
  // Ready when the workers are up.
  let workerPids: number[] = [];
  for (let i = 0; i < 100 && workerPids.length < workers; i++) {
    if (master.exitCode !== null) break;
    await sleep(50);
    workerPids = childPids(master.pid!);
  }
  if (workerPids.length < workers) await notStarted(master, prefix, `(${NGINX})`);
  return {
    port,
    pids: [master.pid!, ...workerPids],
    stop: async () => {
      if (master.exitCode !== null) return;
      // SIGQUIT: graceful shutdown, workers finish and the master exits.
      master.kill('SIGQUIT');
      await exited;
    },
  };
}

/** Kills an nginx that did not come up and throws with its error log. */
async function notStarted(nginx: ChildProcess, prefix: string, how: string): Promise<never> {
  nginx.kill('SIGKILL');
  const log = await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
  throw new Error(`nginx did not start ${how}; error.log:\n${log}`);
}

// One nginx process (no master, no workers), ready when its port accepts connections.
async function startSingleNginx(
  prefix: string,
  port: number,
  [command, args]: Wrapper,
): Promise<RunningNginx> {
  const nginx: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(nginx, 'exit');
  let ready = false;
  for (let i = 0; i < 600 && !ready && nginx.exitCode === null; i++) {
    await sleep(100);
    ready = await accepts(port);
  }
  if (!ready) await notStarted(nginx, prefix, `under ${command}`);
  return {
    port,
    pids: [nginx.pid!],
    stop: async () => {
      if (nginx.exitCode !== null) return;
      nginx.kill('SIGQUIT');
      await exited;
    },
  };
}
