// Child process of footprint.test.ts: imports (mode `esm`) or requires (mode `cjs`) the packages
// named in argv, as a user's service does, and prints as JSON every module file that got loaded.
// A `--create-ca` argument also creates a CA with @meshless/pki after the imports.
// ESM loads are seen by a module.register() load hook, CJS ones in require.cache.
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const [mode, ...rest] = process.argv.slice(2);
const createCa = rest.includes('--create-ca');
const packages = rest.filter((arg) => arg !== '--create-ca');
const loaded = new Set();

if (mode === 'esm') {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => loaded.add(url));
  const hooks = `
    let port;
    export function initialize(data) { port = data.port; }
    export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
    data: { port: port2 },
    transferList: [port2],
  });
  for (const name of packages) await import(name);
  if (createCa) await (await import('@meshless/pki')).createCa({ trustDomain: 'example.org' });
  // The hook thread's messages arrive asynchronously: let them drain.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  port1.close();
} else {
  const require = createRequire(import.meta.url);
  for (const name of packages) require(name);
  if (createCa) await require('@meshless/pki').createCa({ trustDomain: 'example.org' });
  for (const file of Object.keys(require.cache)) loaded.add(file);
}
process.stdout.write(JSON.stringify([...loaded]));
