// Shared by the packaging tests: child npm and node processes must not see this workspace's npm settings.

/** The environment for child npm and node processes, without what `npm test` sets for this workspace. */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      /^npm_(package|lifecycle)_|^npm_config_(local_prefix|workspaces?|include_workspace_root|call)$|^INIT_CWD$/i.test(
        key,
      )
    ) {
      delete env[key];
    }
  }
  return env;
}
