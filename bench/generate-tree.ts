import { createWriteStream } from 'node:fs'
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import { incompressibleStream, SeededRandom } from './seeded-random.js'
import { LogText, SourceText } from './text-content.js'

export const MiB = 1024 * 1024

/**
 * `mixed`: the first issue's tree (a quarter small text files, a quarter logs, half binary), whose
 * bytes dominate. `many-files`: a cache as users keep them (node_modules, ~/.cargo/registry), whose
 * files dominate: packages of source files from 200 B to 20 KiB, median ~2 KiB (issue 29).
 */
export type TreeSpec =
  | { variant: 'mixed'; bytes: number }
  | { variant: 'small-files'; files: number }
  | { variant: 'many-files'; files: number }

export interface GeneratedTree {
  dir: string
  name: string
  bytes: number
  files: number
}

// Bumped whenever the generator's output changes, so cached trees from an older one are rebuilt.
const GENERATOR_VERSION = 1
const SEED = 7
// A fixed mtime keeps the tree byte-identical across runs, file times included.
const MTIME = new Date('2026-01-01T00:00:00Z')
const LOG_FILE_BYTES = 16 * MiB
const WRITE_CHUNK = 4 * MiB

export function treeName(spec: TreeSpec): string {
  return spec.variant === 'mixed' ? `mixed-${formatSize(spec.bytes)}` : `${spec.variant}-${spec.files}`
}

/** For a report's first paragraph: what kind of tree it was. */
export function describeTree(tree: GeneratedTree): string {
  if (tree.name.startsWith('many-files-'))
    return `${formatSize(tree.bytes)} (${tree.files} text files of 200 B to 20 KiB, median ~2 KiB, in ${MANY_FILES_PACKAGES} packages nested up to four deep)`
  if (tree.name.startsWith('small-files-'))
    return `${formatSize(tree.bytes)} (${tree.files} small text files)`
  return `${formatSize(tree.bytes)} (${tree.files} files: a quarter small text files, a quarter logs, half incompressible)`
}

export function formatSize(bytes: number): string {
  return bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)}GiB` : `${Math.round(bytes / MiB)}MiB`
}

/** "64M", "256MiB", "1G", "1GiB" -> bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*(M|MiB|G|GiB)$/i.exec(text.trim())
  if (!match) throw new Error(`size "${text}" is not like 64M, 256MiB or 1G`)
  const unit = match[2]!.toUpperCase().startsWith('G') ? 1024 * MiB : MiB
  return Number(match[1]) * unit
}

/**
 * The tree for `spec` under `dataDir`, generated once: a marker file next to it (not inside, so
 * it is not part of the tree) records what was generated, and a later run with the same spec
 * reuses it.
 */
export async function ensureTree(dataDir: string, spec: TreeSpec): Promise<GeneratedTree> {
  const name = treeName(spec)
  const dir = join(dataDir, 'trees', name)
  const marker = `${dir}.json`
  const wanted = JSON.stringify({ version: GENERATOR_VERSION, spec })
  try {
    const recorded = JSON.parse(await readFile(marker, 'utf8')) as { key: string; tree: GeneratedTree }
    if (recorded.key === wanted) return recorded.tree
  } catch {
    // no usable marker: generate
  }
  const tree = await generateTree(dir, spec)
  await writeFile(marker, JSON.stringify({ key: wanted, tree }))
  return tree
}

/** Writes the tree into `dir` (replacing whatever was there). Deterministic for a given spec. */
export async function generateTree(dir: string, spec: TreeSpec): Promise<GeneratedTree> {
  await rm(dir, { recursive: true, force: true })
  const writer = new TreeWriter(dir)
  const random = new SeededRandom(SEED)
  if (spec.variant === 'mixed') {
    const quarter = Math.floor(spec.bytes / 4)
    await writeSmallTextFiles(writer, random, { bytes: quarter, minSize: 512, maxSize: 16 * 1024 })
    await writeLogs(writer, random, quarter)
    await writer.file('assets/payload.bin', binaryChunks(`${SEED}`, spec.bytes - 2 * quarter))
  } else if (spec.variant === 'many-files') {
    await writePackages(writer, random, spec.files)
  } else {
    await writeSmallTextFiles(writer, random, { files: spec.files, minSize: 256, maxSize: 4096 })
  }
  await writer.fixTimes()
  return { dir, name: treeName(spec), bytes: writer.bytes, files: writer.files }
}

interface SmallFilesBudget {
  bytes?: number
  files?: number
  minSize: number
  maxSize: number
}

/** Nested folders (src/pkg-N/mod-N/...) of text files, about 40 files per folder. */
async function writeSmallTextFiles(writer: TreeWriter, random: SeededRandom, budget: SmallFilesBudget) {
  const text = new SourceText(random)
  let written = 0
  let folder = ''
  for (let n = 0; ; n++) {
    if (budget.files !== undefined && n >= budget.files) break
    if (budget.bytes !== undefined && written >= budget.bytes) break
    if (n % 40 === 0) {
      const depth = random.int(1, 4)
      folder = Array.from(
        { length: depth },
        (_, i) => `${['pkg', 'mod', 'lib', 'part'][i]}-${random.int(0, 24)}`,
      )
        .concat(`f${n / 40}`)
        .join('/')
    }
    let size = random.int(budget.minSize, budget.maxSize)
    if (budget.bytes !== undefined) size = Math.min(size, budget.bytes - written)
    await writer.file(`src/${folder}/file-${n}.txt`, text.bytes(size))
    written += size
  }
}

// The many-files tree: a node_modules-like folder of packages, each a few files at its top and the
// rest in folders up to four deep, file sizes log-normal around a 2 KiB median (sigma 1.25, cut
// to 200 B-20 KiB): about 60,000 files and 240 MB of text for 60,000.
const MANY_FILES_PACKAGES = 400
const MEDIAN_FILE = 2048
const SIZE_SIGMA = 1.25
const FOLDERS = ['lib', 'src', 'dist', 'test', 'types', 'internal', 'util', 'esm', 'cjs', 'helpers']

async function writePackages(writer: TreeWriter, random: SeededRandom, files: number) {
  const text = new SourceText(random)
  // each package's folders: its top, and six folders one to three deep below it
  const folders = Array.from({ length: MANY_FILES_PACKAGES }, () => [
    '',
    ...Array.from({ length: 6 }, () => {
      const depth = random.int(1, 3)
      return Array.from({ length: depth }, () => random.pick(FOLDERS)).join('/') + '/'
    }),
  ])
  for (let n = 0; n < files; n++) {
    // squared, so a few packages are large and most are small, as in a node_modules
    const p = Math.floor(MANY_FILES_PACKAGES * random.next() ** 2)
    const size = Math.round(
      Math.min(20480, Math.max(200, MEDIAN_FILE * Math.exp(SIZE_SIGMA * gaussian(random)))),
    )
    const ext = random.next() < 0.8 ? 'js' : 'd.ts'
    await writer.file(`pkg-${p}/${random.pick(folders[p]!)}file-${n}.${ext}`, text.bytes(size))
  }
}

// Box-Muller: a standard normal from two uniforms
function gaussian(random: SeededRandom): number {
  const u = 1 - random.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next())
}

async function writeLogs(writer: TreeWriter, random: SeededRandom, bytes: number) {
  const logs = new LogText(random)
  for (let n = 0, left = bytes; left > 0; n++) {
    const size = Math.min(LOG_FILE_BYTES, left)
    await writer.file(`logs/build-${n}.log`, logChunks(logs, size))
    left -= size
  }
}

function* logChunks(logs: LogText, size: number): Generator<Buffer> {
  for (let left = size; left > 0;) {
    const chunk = Buffer.from(logs.chunk(Math.min(WRITE_CHUNK, left)), 'latin1').subarray(0, left)
    left -= chunk.length
    yield chunk
  }
}

function* binaryChunks(seed: string, size: number): Generator<Buffer> {
  const next = incompressibleStream(seed)
  for (let left = size; left > 0; left -= WRITE_CHUNK) yield next(Math.min(WRITE_CHUNK, left))
}

class TreeWriter {
  bytes = 0
  files = 0
  private readonly paths = new Set<string>()

  constructor(private readonly root: string) {}

  async file(relative: string, content: Buffer | Iterable<Buffer>): Promise<void> {
    const path = join(this.root, relative)
    await this.folder(dirname(relative))
    if (Buffer.isBuffer(content)) {
      // Small files: one write, no stream to set up, which is most of the cost at 20,000 files.
      await writeFile(path, content)
      this.bytes += content.length
    } else {
      const out = createWriteStream(path)
      for (const chunk of content) {
        this.bytes += chunk.length
        if (!out.write(chunk)) await once(out, 'drain')
      }
      out.end()
      await finished(out)
    }
    this.paths.add(path)
    this.files++
  }

  private async folder(relative: string): Promise<void> {
    const path = join(this.root, relative)
    if (this.paths.has(path)) return
    await mkdir(path, { recursive: true })
    for (let d = relative; d !== '.'; d = dirname(d)) this.paths.add(join(this.root, d))
  }

  /** Files first, then folders deepest first: writing into a folder would move its mtime again. */
  async fixTimes(): Promise<void> {
    const ordered = [...this.paths].sort((a, b) => b.split('/').length - a.split('/').length)
    for (const path of ordered) await utimes(path, MTIME, MTIME)
    await utimes(this.root, MTIME, MTIME)
  }
}
