// A program run under another command that execs or hosts it in the same process (taskset,
// valgrind), so that the pid, the IPC channel and the environment stay those the parent set up.

/** A command to run a program under, with its arguments (`valgrind --tool=callgrind ...`). */
export type Wrapper = [command: string, args: string[]];

/** `command args` run under `wrapper`: the wrapper's command, its arguments, then the program's. */
export function underWrapper(
  [wrapperCommand, wrapperArgs]: Wrapper,
  command: string,
  args: string[],
): Wrapper {
  return [wrapperCommand, [...wrapperArgs, command, ...args]];
}
