#!/usr/bin/env bash
# Runs jest under Node 24 (what the runner uses) with ESM enabled.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node24=$(bash "$root/scripts/node24.sh")
cd "$root"
NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings" exec "$node24" node_modules/jest/bin/jest.js "$@"
