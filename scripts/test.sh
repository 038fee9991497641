#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, rebuilds dist/, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
npm run --silent build
# --forceExit: a handle a test forgot must fail loudly in that test, not hang CI until its time runs out.
bash scripts/jest.sh --forceExit "$@"
