import manifest from '../package.json' with { type: 'json' };

/**
 * The version of `@meshless/cli`, bundled in at build time so `meshless --version` needs no file
 * lookup at run time.
 *
 * @example
 * ```ts
 * console.log(`meshless ${VERSION}`);
 * ```
 */
export const VERSION: string = manifest.version;
