#!/usr/bin/env bash
# The main job: push and pull a sample directory against a local registry that this starts and stops.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
npm run --silent bundle
npx tsc -p scripts/tsconfig.json
exec "$(bash scripts/node24.sh)" .build/scripts/demo.js
