#!/usr/bin/env bash
# The benchmark (npm run bench -- --help): the action's push, pull and cache against the plain
# alternatives on the same data. Not part of npm test: a full run takes minutes and both cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bundle=1
cache=1
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-bundle" ]; then bundle=0; else args+=("$arg"); fi
  if [ "$arg" = "--no-cache" ]; then cache=0; fi
done
bash scripts/setup.sh
# GNU time gives each process's peak RSS; Debian ships it as `time`.
if [ ! -x /usr/bin/time ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing time (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi
# The numbers are for what the sources build now, not for a stale dist/.
if [ "$bundle" = 1 ]; then npm run --silent bundle; fi
# bench/tsconfig.json compiles the bench and the test bed it imports into .build/.
npx tsc -p bench/tsconfig.json
# actions/cache's own save and restore code (bench/actions-cache/), bundled as that action ships.
if [ "$cache" = 1 ]; then
  for step in save restore; do
    npx ncc build "bench/actions-cache/$step.ts" -o ".build/actions-cache/$step" --target es2022 --quiet
  done
fi
# --expose-gc: the harness collects its own garbage before each timed step (measured-process.ts).
exec "$(bash scripts/node24.sh)" --expose-gc .build/bench/run.js ${args[@]+"${args[@]}"}
