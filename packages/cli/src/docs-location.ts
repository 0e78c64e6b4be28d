import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// In a checkout, the repository's docs/cli.md (its links work there); in an installed package, the
// copy the build puts next to the command (dist/cli.md), since docs/ is not published.
const CANDIDATES = ['../../../docs/cli.md', './cli.md'];

/**
 * The absolute path of the CLI guide, for `meshless --help`: a relative `docs/cli.md` means nothing
 * outside the repository's root. Falls back to the package's README when neither copy exists.
 *
 * @example
 * ```ts
 * cliGuidePath(); // '/home/me/meshless/docs/cli.md' in a checkout
 * ```
 */
export function cliGuidePath(base: string | URL = import.meta.url): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, base));
    if (existsSync(path)) return path;
  }
  return fileURLToPath(new URL('../README.md', base));
}
