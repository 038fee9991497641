// Makes @jazzer.js/fuzzer's prebuilt libFuzzer addon load on glibc 2.36 (Debian 12), and prints
// the LD_PRELOAD it then needs, or nothing when it loads as shipped.
//
// Why: the npm package ships only prebuilt binaries (no C++ sources), built against glibc 2.38 and
// GCC 13's libstdc++. Three symbols need those versions: __isoc23_strtol and __isoc23_strtoul
// (C23's strtol, which differs only in also reading a 0b prefix) and
// std::ios_base_library_init() (an empty hook in GCC 13 that pulls in stream initialisation,
// which older libstdc++ does on its own). Building from source is no way out here: the build
// downloads Jazzer's own libFuzzer fork from GitHub, which this machine cannot reach.
// What this does: marks those two version requirements weak in the addon (the loader then
// accepts their absence) and builds a small library with the three symbols, preloaded by
// scripts/fuzz.sh. Idempotent; the shipped file is kept beside it as .orig.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const addon = path.join(
  root,
  'node_modules/@jazzer.js/fuzzer/prebuilds',
  `fuzzer-${process.platform}-${process.arch}.node`,
)
const shimDir = path.join(root, '.build/jazzer-compat')
const shim = path.join(shimDir, 'glibc-compat.so')
const VERSIONS = ['GLIBC_2.38', 'GLIBCXX_3.4.32']
const SHIM_SOURCE = `#include <stdlib.h>
long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return strtoul(s, end, base); }
void ios_base_library_init(void) __asm__("_ZSt21ios_base_library_initv");
void ios_base_library_init(void) {}
`

function loads(preload) {
  // LD_BIND_NOW: a missing symbol fails here, not at its first call in the middle of a run
  const env = { ...process.env, LD_BIND_NOW: '1', ...(preload ? { LD_PRELOAD: preload } : {}) }
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], {
    env,
    encoding: 'utf8',
  })
  return { ok: r.status === 0, error: r.stderr.split('\n').find((l) => l.startsWith('Error')) ?? r.stderr }
}

// Sets VER_FLG_WEAK on the named entries of the ELF's version-needs section (.gnu.version_r).
function weakenVersionNeeds(file, names) {
  const b = readFileSync(file)
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) throw new Error(`${file}: not a 64-bit ELF file`)
  const shoff = Number(b.readBigUInt64LE(0x28))
  const shentsize = b.readUInt16LE(0x3a)
  const section = (i) => {
    const o = shoff + i * shentsize
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      link: b.readUInt32LE(o + 0x28),
      info: b.readUInt32LE(o + 0x2c),
    }
  }
  let changed = 0
  for (let i = 0; i < b.readUInt16LE(0x3c); i++) {
    const s = section(i)
    if (s.type !== 0x6ffffffe) continue // SHT_GNU_verneed
    const strings = section(s.link).offset
    const name = (o) => b.toString('latin1', strings + o, b.indexOf(0, strings + o))
    let need = s.offset
    for (let n = 0; n < s.info; n++) {
      let aux = need + b.readUInt32LE(need + 8)
      for (let k = 0; k < b.readUInt16LE(need + 2); k++) {
        if (names.includes(name(b.readUInt32LE(aux + 8))) && !(b.readUInt16LE(aux + 4) & 0x2)) {
          b.writeUInt16LE(b.readUInt16LE(aux + 4) | 0x2, aux + 4)
          changed++
        }
        aux += b.readUInt32LE(aux + 12)
      }
      need += b.readUInt32LE(need + 12)
    }
  }
  // a new file renamed over the old one: a fuzzer running meanwhile keeps its mapping of the old
  // (rewriting the file in place crashed one with SIGBUS)
  if (changed > 0) {
    writeFileSync(`${file}.tmp`, b)
    renameSync(`${file}.tmp`, file)
  }
  return changed
}

if (!existsSync(addon)) throw new Error(`no Jazzer.js addon at ${addon}: run npm ci`)
const first = loads()
if (first.ok) process.exit(0)
if (!/GLIBC_2\.38|GLIBCXX_3\.4\.32|__isoc23_|ios_base_library_init/.test(first.error)) {
  console.error(
    `jazzer-addon: the Jazzer.js addon does not load, for a reason this script does not mend:\n${first.error}`,
  )
  process.exit(1)
}
if (!existsSync(shim)) {
  mkdirSync(shimDir, { recursive: true })
  writeFileSync(path.join(shimDir, 'glibc-compat.c'), SHIM_SOURCE)
  execFileSync('cc', ['-O2', '-shared', '-fPIC', '-o', shim, path.join(shimDir, 'glibc-compat.c')])
}
if (!existsSync(`${addon}.orig`)) copyFileSync(addon, `${addon}.orig`)
weakenVersionNeeds(addon, VERSIONS)
const after = loads(shim)
if (!after.ok) {
  console.error(`jazzer-addon: still does not load after the glibc shim:\n${after.error}`)
  process.exit(1)
}
console.log(shim)
