#!/usr/bin/env bash
# npm run lint: the TypeScript and formatting, then the workflows and action.yml as GitHub reads them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npx eslint .
npx prettier --check .
"$(bash scripts/node24.sh)" scripts/lint-actions.ts
