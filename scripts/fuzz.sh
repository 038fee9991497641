#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer.js, libFuzzer) of the code that reads what others wrote: the tar
# reader, extraction, the entry-path rules, the manifest and index parsers. Not part of npm test.
#   npm run fuzz                          every target for 60 s each
#   npm run fuzz -- --time 300 extract    one target for 5 minutes
#   npm run fuzz -- --regress             each committed seed and finding once (a quick check)
#   npm run fuzz -- --seed                rewrite fuzz/corpus/ from the hostile-archive fixtures
# New inputs that reach new code collect in .build/fuzz-run/corpus/<target>/ (kept between runs);
# a crash, hang or escape is written to .build/fuzz-run/findings/ and the run stops with its stack.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
all=(tar-reader extract entry-path manifest)
time=60
mode=fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time="$2"; shift 2 ;;
    --regress) mode=regress; shift ;;
    --seed) mode=seed; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) [[ " ${all[*]} " == *" $1 "* ]] || { echo "fuzz: no target $1 (${all[*]})" >&2; exit 2; }
       targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
node=$(bash scripts/node24.sh)

npx tsc -p fuzz/tsconfig.json
if [ "$mode" = seed ]; then exec "$node" .build/fuzz/seed-corpus.js; fi

# the prebuilt addon wants a newer glibc than Debian 12's: see scripts/jazzer-addon.mjs
preload=$("$node" scripts/jazzer-addon.mjs)
status=0
for target in "${targets[@]}"; do
  options=(--includes=/.build/src/ --includes=/node_modules/tar/ --timeout=5000)
  # libFuzzer's own flags; a tar needs more than its 4 KiB default to hold a few entries
  flags=(-max_len=16384 -print_final_stats=1 "-artifact_prefix=.build/fuzz-run/findings/$target-")
  case "$target" in
    tar-reader) options+=(--sync); flags+=(-dict=fuzz/tar.dict) ;;
    extract) flags+=(-dict=fuzz/tar.dict) ;;
    entry-path) options+=(--sync); flags=("${flags[@]/-max_len=16384/-max_len=512}") ;;
    manifest) options+=(--sync); flags+=(-dict=fuzz/manifest.dict) ;;
  esac
  mkdir -p ".build/fuzz-run/corpus/$target" .build/fuzz-run/findings
  corpora=(".build/fuzz-run/corpus/$target" "fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && corpora+=("fuzz/regressions/$target")
  if [ "$mode" = regress ]; then
    flags+=(-runs=0) # the corpora once, no new inputs
  else
    flags+=("-max_total_time=$time")
  fi
  if [ "$mode" = regress ]; then echo "== $target: the corpora once"; else echo "== $target: $time s"; fi
  LD_PRELOAD="$preload" "$node" node_modules/@jazzer.js/core/dist/cli.js ".build/fuzz/targets/$target.js" \
    "${options[@]}" "${corpora[@]}" -- "${flags[@]}" || status=$?
  [ "$status" -eq 0 ] || { echo "fuzz: $target found a problem (exit $status): see .build/fuzz-run/findings/" >&2; exit "$status"; }
done
