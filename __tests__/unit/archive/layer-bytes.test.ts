import { describe, expect, it } from '@jest/globals'
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { packDirectoryToFile } from '../../../src/archive/pack.js'
import { GZIP_CHUNK_SIZE } from '../../../src/archive/parallel-gzip.js'
import { LONG_NAME, tempDir } from './tree.js'

// Bytes that look random to the incompressible test, the same on every run (xorshift32).
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

// A tree that takes every path of the pack: a PAX name followed by short ones, an executable, a
// symlink, text spread over several gzip chunks (each primed with the one before) and a chunk
// stored as it is.
function fixedTree(): string {
  const root = path.join(tempDir(), 'src')
  mkdirSync(path.join(root, path.dirname(LONG_NAME)), { recursive: true })
  mkdirSync(path.join(root, 'bin'))
  writeFileSync(path.join(root, LONG_NAME), 'a name long enough for a PAX record')
  writeFileSync(path.join(root, 'a.txt'), 'short after long')
  writeFileSync(path.join(root, 'bin/run.sh'), '#!/bin/sh\necho hi\n')
  chmodSync(path.join(root, 'bin/run.sh'), 0o755)
  symlinkSync('bin/run.sh', path.join(root, 'run'))
  const line = (i: number) => `${i} GET /assets/app.${i % 97}.js 200 ${(i * 7) % 1000}ms\n`
  writeFileSync(path.join(root, 'log.txt'), Array.from({ length: 120_000 }, (_, i) => line(i)).join(''))
  writeFileSync(path.join(root, 'random.bin'), noise(GZIP_CHUNK_SIZE * 2 + 12_345, 2463534242))
  return root
}

describe('a pushed layer keeps its bytes across versions', () => {
  // Layers are compared by digest across versions of the action: a change to how the pack
  // allocates, reads or compresses must not change one byte. These digests were taken at e7c7c0b.
  it.each([
    ['gzip', 'sha256:a3bafd73cd290ef33f51aff3c9b4b7f192488af1c06e52adf93fc93e421fcc9d'],
    ['zstd', 'sha256:f604b6686eaf0abd228badfd8dfe249dfb052193986f301ac13672a3ea27108c'],
  ] as const)('%s', async (compression, digest) => {
    const file = path.join(tempDir(), `layer.${compression}`)
    const packed = await packDirectoryToFile(fixedTree(), file, { compression, prefix: 'out' })
    expect(packed.digest).toBe(digest)
  })
})
