#!/usr/bin/env node
// The `meshless` command. This file is in git (dist/ is not) so that npm links the command when it
// installs, even in a fresh clone where `npm run build` comes after `npm ci`: npm does not link a
// bin whose file is missing at install time, and `npx meshless` then goes to the registry.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist')) throw error;
  process.stderr.write(
    'meshless: the command is not built yet: run `npm run build` at the repository root\n',
  );
  process.exitCode = 2;
}
