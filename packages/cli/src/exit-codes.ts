/**
 * The exit codes of `meshless`, documented in docs/cli.md:
 * - `0`: the command succeeded and everything it checked is fine;
 * - `1`: the command ran and a check failed (invalid material, a failed probe, a problem found by
 *   doctor, an unreadable file, a CA that refuses to issue);
 * - `2`: usage error (unknown command or option, a missing or malformed option value);
 * - `3`: `probe` only: the server authenticated us (mutual TLS worked) but did not authorize us
 *   (HTTP 403 from its authorizer).
 *
 * @example
 * ```ts
 * if (code === EXIT.usage) console.error('see meshless --help');
 * ```
 */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, denied: 3 } as const);

/** One of the {@link EXIT} codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
