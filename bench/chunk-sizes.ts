/**
 * Offline: what a chunked save would send for each chunking, with no registry and no action run
 * (node .build/bench/chunk-sizes.js <data dir> [many-files|mixed] ...). For each tree the base is
 * cut once per chunking; each scenario of bench/incremental.ts changes a copy, which is cut again:
 * "new" is what the save would compress and send (chunks the base does not hold), against a
 * full save's sum of compressed chunks, and the tar zstd'd whole (what frame size costs).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { zstdCompressSync, constants } from 'node:zlib'
import { join, relative } from 'node:path'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { streamTar } from '../src/archive/pack.js'
import { Chunker, type ChunkSizes } from '../src/archive/chunker.js'
import { ensureTree, MiB, type TreeSpec } from './generate-tree.js'
import { SCENARIOS } from './incremental.js'
import { SeededRandom } from './seeded-random.js'

const KiB = 1024
const AVERAGES = (process.env.CHUNK_AVERAGES ?? '32,64,128,256,512,1024').split(',').map(Number)
const CHUNKINGS: { name: string; sizes: ChunkSizes }[] = AVERAGES.map((avg) => ({
  name: `${avg} KiB`,
  sizes: { min: (avg * KiB) / 4, avg: avg * KiB, max: avg * KiB * 4 },
}))

interface Cut {
  digests: Set<string>
  chunks: number
  compressed: number
  byDigest: Map<string, number>
}

async function tarOf(dir: string): Promise<Buffer> {
  const parts: Buffer[] = []
  await streamTar(dir, { includeGit: false, mtime: 'preserve' }, async (b) => {
    parts.push(Buffer.from(b))
  })
  return Buffer.concat(parts)
}

async function cut(
  tar: Buffer,
  sizes: ChunkSizes,
  base?: Cut,
): Promise<Cut & { fresh: number; freshBytes: number }> {
  const out: Cut & { fresh: number; freshBytes: number } = {
    digests: new Set(),
    chunks: 0,
    compressed: 0,
    byDigest: new Map(),
    fresh: 0,
    freshBytes: 0,
  }
  const chunker: Chunker = new Chunker(sizes, async (chunk) => {
    const digest = createHash('sha256').update(chunk).digest('hex')
    out.chunks++
    let size = out.byDigest.get(digest)
    if (size === undefined && base?.byDigest.has(digest)) size = base.byDigest.get(digest)
    if (size === undefined) {
      size = zstdCompressSync(chunk, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }).length
      if (base && !out.byDigest.has(digest)) {
        out.fresh++
        out.freshBytes += size
      }
    }
    if (!out.byDigest.has(digest)) out.compressed += size
    out.byDigest.set(digest, size)
    out.digests.add(digest)
    chunker.pool.release(chunk)
  })
  for (let at = 0; at < tar.length; at += 1 << 20) await chunker.write(tar.subarray(at, at + (1 << 20)))
  await chunker.end()
  return out
}

async function main(): Promise<void> {
  const dataDir = process.argv[2] as string
  const specs: TreeSpec[] = process.argv
    .slice(3)
    .map((v) =>
      v === 'many-files' ? { variant: 'many-files', files: 60000 } : { variant: 'mixed', bytes: 256 * MiB },
    )
  for (const spec of specs) {
    const tree = await ensureTree(dataDir, spec)
    const tar = await tarOf(tree.dir)
    const whole = zstdCompressSync(tar, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }).length
    console.log(
      `\n${tree.name}: tar ${(tar.length / MiB).toFixed(1)} MiB, zstd -3 whole ${(whole / MiB).toFixed(2)} MiB`,
    )
    const bases = new Map<string, Cut>()
    for (const c of CHUNKINGS) {
      const b = await cut(tar, c.sizes)
      bases.set(c.name, b)
      console.log(
        `  ${c.name.padEnd(9)} full: ${b.chunks} chunks, ${(b.compressed / MiB).toFixed(2)} MiB ` +
          `(${((100 * b.compressed) / whole - 100).toFixed(1)}% above whole)`,
      )
    }
    for (const scenario of SCENARIOS.filter((s) => s.name === 'folders' || s.name === 'uniform')) {
      const copy = join(dataDir, 'chunk-sizes-work')
      rmSync(copy, { recursive: true, force: true })
      execFileSync('cp', ['-a', tree.dir, copy])
      scenario.change(copy, new SeededRandom(1001))
      const changed = await tarOf(copy)
      // the floor: the changed and added files alone (each with a 512-byte header), zstd'd whole
      const fresh: Buffer[] = []
      for (const file of execFileSync('find', [copy, '-type', 'f'], { encoding: 'utf8', maxBuffer: 1 << 28 })
        .split('\n')
        .filter(Boolean)) {
        const bytes = readFileSync(file)
        const before = join(tree.dir, relative(copy, file))
        if (!existsSync(before) || !readFileSync(before).equals(bytes)) fresh.push(Buffer.alloc(512), bytes)
      }
      const floor = zstdCompressSync(Buffer.concat(fresh), {
        params: { [constants.ZSTD_c_compressionLevel]: 3 },
      }).length
      console.log(
        `  ${scenario.name.padEnd(9)} floor (changed files alone): ${fresh.length / 2} files, ` +
          `${(floor / MiB).toFixed(2)} MiB = ${((100 * floor) / whole).toFixed(1)}% of the whole tar zstd'd`,
      )
      rmSync(copy, { recursive: true, force: true })
      for (const c of CHUNKINGS) {
        const base = bases.get(c.name) as Cut
        const r = await cut(changed, c.sizes, base)
        console.log(
          `  ${scenario.name.padEnd(9)} ${c.name.padEnd(9)} ${r.fresh} new of ${r.chunks} chunks, ` +
            `${(r.freshBytes / MiB).toFixed(2)} MiB = ${((100 * r.freshBytes) / base.compressed).toFixed(1)}% of a full save`,
        )
      }
    }
  }
}

await main()
