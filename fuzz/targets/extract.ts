// Extraction of an uncompressed tar into a real destination on a tmpfs. The property: nothing is
// ever written outside the destination (and its staging folder beside it), whatever the archive
// holds; a refusal is one of our archive errors and leaves no staging folder behind.
// Every call that changes the filesystem is watched (node:fs is patched, and the ES module
// bindings synced, before the code under test loads): each path it touches, and the real folder
// it lands in, must be inside dest or its staging folder. A folder `outside` beside dest, and a
// file in it that an existing dest's symlink points at, are checked afterwards as well.
// The first byte holds options: bit 0 an existing dest (with that symlink, so the merge runs),
// bit 1 restoreMtimes, bit 2 stripPrefix "p".
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import path from 'node:path'
import { Readable } from 'node:stream'

const WATCHED = [
  'mkdirSync',
  'openSync',
  'symlinkSync',
  'linkSync',
  'renameSync',
  'unlinkSync',
  'rmSync',
  'chmodSync',
  'utimesSync',
  'lutimesSync',
  'writeFileSync',
  'rmdirSync',
  'truncateSync',
  'copyFileSync',
] as const

const base = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'fuzz-extract-'))
const work = path.join(base, 'work')
const dest = path.join(work, 'parent', 'dest')
const outside = path.join(work, 'outside')
let guarding = false
const violations: string[] = []

function inside(p: string): boolean {
  const resolved = path.resolve(p)
  return (
    resolved === dest ||
    resolved.startsWith(`${dest}/`) ||
    resolved.startsWith(`${dest}.partial-`) ||
    resolved === path.dirname(dest)
  )
}

// where a path really lands: its parent folder with every symlink resolved, then its own name
function landing(p: string): string {
  const resolved = path.resolve(p)
  try {
    return path.join(fs.realpathSync(path.dirname(resolved)), path.basename(resolved))
  } catch {
    return resolved // the parent does not exist: the call itself will fail
  }
}

for (const name of WATCHED) {
  const original = (fs as unknown as Record<string, (...args: unknown[]) => unknown>)[name] as (
    ...args: unknown[]
  ) => unknown
  ;(fs as unknown as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    if (guarding) {
      // openSync for reading only is not a write
      const readOnly =
        name === 'openSync' && (args[1] === undefined || args[1] === 'r' || args[1] === fs.constants.O_RDONLY)
      const paths =
        name === 'symlinkSync'
          ? args.slice(1, 2)
          : name === 'linkSync' || name === 'renameSync' || name === 'copyFileSync'
            ? args.slice(0, 2)
            : args.slice(0, 1)
      for (const p of paths) {
        if (readOnly || typeof p !== 'string') continue
        if (!inside(p) || !inside(landing(p)))
          violations.push(`${name}(${JSON.stringify(p)}) lands at ${landing(p)}`)
      }
    }
    return original.apply(this, args)
  }
}
syncBuiltinESMExports()

const { extractToDirectory } = await import('../../src/archive/extract.js')
const { ArchiveEntryError, ArchiveFormatError } = await import('../../src/archive/errors.js')

function snapshot(dir: string): string {
  const out: string[] = []
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name)
    const st = fs.lstatSync(p)
    out.push(`${name}:${st.mode}:${st.isFile() ? fs.readFileSync(p, 'utf8') : ''}`)
    if (st.isDirectory()) out.push(`[${snapshot(p)}]`)
  }
  return out.join(',')
}

function setUp(existingDest: boolean): string {
  fs.rmSync(work, { recursive: true, force: true })
  fs.mkdirSync(outside, { recursive: true })
  fs.writeFileSync(path.join(outside, 'victim'), 'original')
  if (existingDest) {
    fs.mkdirSync(dest, { recursive: true })
    fs.writeFileSync(path.join(dest, 'kept'), 'kept')
    fs.symlinkSync('../../outside', path.join(dest, 'escape'))
    fs.symlinkSync('../../outside/victim', path.join(dest, 'victim-link'))
  }
  return snapshot(outside)
}

export async function fuzz(data: Buffer): Promise<void> {
  if (data.length === 0) return
  const flags = data[0] as number
  const before = setUp((flags & 1) !== 0)
  violations.length = 0
  guarding = true
  let refused = false
  try {
    await extractToDirectory(Readable.from([data.subarray(1)]), dest, {
      compression: 'none',
      restoreMtimes: (flags & 2) !== 0,
      stripPrefix: flags & 4 ? 'p' : undefined,
    })
  } catch (error) {
    if (!(error instanceof ArchiveEntryError || error instanceof ArchiveFormatError)) throw error
    refused = true
  } finally {
    guarding = false
  }
  if (violations.length > 0) throw new Error(`written outside the destination: ${violations.join('; ')}`)
  if (snapshot(outside) !== before) throw new Error('the folder beside the destination changed')
  // a refused archive removes the parent it created for staging, so it may be gone
  const parent = path.join(work, 'parent')
  const left = fs.existsSync(parent) ? fs.readdirSync(parent).filter((name) => name !== 'dest') : []
  if (left.length > 0) throw new Error(`left behind: ${left.join(', ')}`)
  if (refused && (flags & 1) === 0 && fs.existsSync(dest)) throw new Error('a refused archive created dest')
}
