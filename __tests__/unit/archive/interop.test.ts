import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { packDirectoryToFile } from '../../../src/archive/pack.js'
import { addHardLink, buildTree, LONG_NAME, snapshot, tempDir } from './tree.js'

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

// A tree big enough for several 1 MiB gzip chunks, some compressible and some not.
function multiChunkTree(): string {
  const root = buildTree(path.join(tempDir(), 'src'))
  const random = randomBytes(3 * 1024 * 1024)
  writeFileSync(path.join(root, 'data/random.bin'), random)
  writeFileSync(path.join(root, 'data/log.txt'), 'GET /index.html 200 12ms\n'.repeat(200000))
  return root
}

describe('GNU tar and gzip read our layers', () => {
  it('gzip -t accepts the layer, zcat restores the exact tar we hashed, GNU tar restores the tree', async () => {
    const source = multiChunkTree()
    addHardLink(source, 'README.md', 'hard-readme')
    const work = tempDir()
    const layer = path.join(work, 'layer.tgz')
    const packed = await packDirectoryToFile(source, layer, { compression: 'gzip' })
    expect(packed.size).toBe(readFileSync(layer).length)
    expect(packed.digest).toBe(sha256(readFileSync(layer)))
    execFileSync('gzip', ['-t', layer])
    const tar = execFileSync('zcat', [layer], { maxBuffer: 64 * 1024 * 1024 })
    expect(packed.uncompressedDigest).toBe(sha256(tar))
    expect(packed.uncompressedSize).toBe(tar.length)
    // one gzip member whatever the number of chunks: the header appears once
    const bytes = readFileSync(layer)
    expect(bytes.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))
    expect(bytes.length).toBeGreaterThan(3 * 1024 * 1024)
    const out = path.join(work, 'gnu')
    mkdirSync(out)
    execFileSync('tar', ['-xzf', layer, '-C', out])
    expect(snapshot(out)).toEqual(snapshot(source))
  })

  it('matches the shape ORAS gives a directory: title prefix, uncompressed digest of exactly the tar', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const layer = path.join(tempDir(), 'layer.tgz')
    const packed = await packDirectoryToFile(source, layer, { compression: 'gzip', prefix: 'dist' })
    const tar = execFileSync('zcat', [layer])
    expect(packed.uncompressedDigest).toBe(sha256(tar))
    // Go's archive/tar ends with two zero blocks and no record padding
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true)
    expect(tar.subarray(tar.length - 1536, tar.length - 1024).every((b) => b === 0)).toBe(false)
    const out = tempDir()
    execFileSync('tar', ['-xzf', layer, '-C', out])
    expect(snapshot(path.join(out, 'dist'))).toEqual(snapshot(source))
  })

  it('zstd -d reads our zstd layers', async () => {
    const source = multiChunkTree()
    const work = tempDir()
    const layer = path.join(work, 'layer.tar.zst')
    const packed = await packDirectoryToFile(source, layer, { compression: 'zstd' })
    const tar = execFileSync('zstd', ['-dc', layer], { maxBuffer: 64 * 1024 * 1024 })
    expect(sha256(tar)).toBe(packed.uncompressedDigest)
    const out = path.join(work, 'gnu')
    mkdirSync(out)
    execFileSync('tar', ['--zstd', '-xf', layer, '-C', out])
    expect(snapshot(out)).toEqual(snapshot(source))
  })
})

describe('we read layers made by GNU tar', () => {
  it.each([['gnu'], ['pax'], ['ustar']])('tar czf --format=%s, with ./ entries', async (format) => {
    // ustar cannot hold the long names
    const source = format === 'ustar' ? path.join(tempDir(), 'src') : buildTree(path.join(tempDir(), 'src'))
    if (format === 'ustar') {
      mkdirSync(path.join(source, 'sub'), { recursive: true })
      writeFileSync(path.join(source, 'sub/file.txt'), 'x')
      writeFileSync(path.join(source, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    } else {
      addHardLink(source, 'README.md', 'hard-readme')
      expect(LONG_NAME.length).toBeGreaterThan(100)
    }
    const layer = path.join(tempDir(), 'gnu.tgz')
    execFileSync('tar', [`--format=${format}`, '-czf', layer, '-C', source, '.'])
    const dest = path.join(tempDir(), 'out')
    const result = await extractToDirectory(createReadStream(layer), dest, {
      compression: 'gzip',
      expectedUncompressedDigest: sha256(execFileSync('zcat', [layer])),
    })
    expect(snapshot(dest)).toEqual(snapshot(source))
    expect(result.files).toBeGreaterThan(0)
  })

  it('tar --zstd and plain tar', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const work = tempDir()
    execFileSync('tar', ['--zstd', '-cf', path.join(work, 'l.tar.zst'), '-C', source, '.'])
    execFileSync('tar', ['-cf', path.join(work, 'l.tar'), '-C', source, '.'])
    await extractToDirectory(createReadStream(path.join(work, 'l.tar.zst')), path.join(work, 'z'), {
      compression: 'zstd',
    })
    await extractToDirectory(createReadStream(path.join(work, 'l.tar')), path.join(work, 'p'), {
      compression: 'none',
    })
    expect(snapshot(path.join(work, 'z'))).toEqual(snapshot(source))
    expect(snapshot(path.join(work, 'p'))).toEqual(snapshot(source))
  })

  it('a layer whose entries sit under a title directory, stripped', async () => {
    const parent = tempDir()
    const source = buildTree(path.join(parent, 'title'))
    const layer = path.join(tempDir(), 'oras-like.tgz')
    execFileSync('tar', ['-czf', layer, '-C', parent, 'title'])
    const dest = path.join(tempDir(), 'out')
    await extractToDirectory(createReadStream(layer), dest, { compression: 'gzip', stripPrefix: 'title' })
    expect(snapshot(dest)).toEqual(snapshot(source))
  })
})
