#!/usr/bin/env node
import { startApp } from './app.mjs';
// The container's entry point: configuration from the environment, then the service until SIGTERM.
import { configFromEnv } from './app-config.mjs';

const config = configFromEnv();
const app = await startApp(config);
const { spiffeId, serialNumber } = app.source.current().identity;
console.log(`${config.service} on ${app.url} as ${spiffeId} (certificate ${serialNumber})`);

process.once('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
