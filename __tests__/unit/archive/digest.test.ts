import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { digestDirectory, packDirectoryToFile } from '../../../src/archive/pack.js'
import { addHardLink, buildTree, tempDir } from './tree.js'

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

describe('digestDirectory', () => {
  it('hashes exactly the tar packDirectory writes, for the same options', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    // files larger than a chunk, one ending mid-chunk, and a hard link
    writeFileSync(path.join(source, 'big.bin'), randomBytes(2.5 * 1024 * 1024))
    writeFileSync(path.join(source, 'medium.bin'), randomBytes(1024 * 1024 + 7))
    addHardLink(source, 'README.md', 'readme-again')
    const options = { prefix: 'artifact', mtime: new Date('2026-01-02T03:04:05Z') }
    const tarFile = path.join(tempDir(), 'layer.tar')
    const packed = await packDirectoryToFile(source, tarFile, { compression: 'none', ...options })
    const tar = readFileSync(tarFile)

    const digested = await digestDirectory(source, options)

    expect(digested).toEqual({
      uncompressedDigest: sha256(tar),
      uncompressedSize: tar.length,
      files: packed.files,
    })
    expect(digested.uncompressedDigest).toBe(packed.uncompressedDigest)
  })

  it('packs the same layer with hashTar: false, only without the tar digest', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const hashed = await packDirectoryToFile(source, path.join(tempDir(), 'a.tar.zst'), {
      compression: 'zstd',
    })
    const unhashed = await packDirectoryToFile(source, path.join(tempDir(), 'b.tar.zst'), {
      compression: 'zstd',
      hashTar: false,
    })
    expect(unhashed.uncompressedDigest).toBeUndefined()
    expect({ ...unhashed, uncompressedDigest: hashed.uncompressedDigest }).toEqual(hashed)
  })

  it('tells trees apart by content and by the options that shape the tar', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const before = await digestDirectory(source, {})
    expect(await digestDirectory(source, {})).toEqual(before)
    expect((await digestDirectory(source, { prefix: 'x' })).uncompressedDigest).not.toBe(
      before.uncompressedDigest,
    )
    expect((await digestDirectory(source, { mtime: new Date(1000) })).uncompressedDigest).not.toBe(
      before.uncompressedDigest,
    )
    writeFileSync(path.join(source, 'README.md'), '# hello!\n')
    expect((await digestDirectory(source, {})).uncompressedDigest).not.toBe(before.uncompressedDigest)
  })

  it('lets timers run while it hashes, and stops with the reason once aborted', async () => {
    const source = path.join(tempDir(), 'src')
    mkdirSync(source)
    writeFileSync(path.join(source, 'big.bin'), randomBytes(20 * 1024 * 1024))
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    try {
      await digestDirectory(source, {})
    } finally {
      clearInterval(timer)
    }
    expect(ticks).toBeGreaterThan(0)

    const stop = new AbortController()
    const reason = new Error('the tag holds nothing to compare with')
    setImmediate(() => stop.abort(reason))
    await expect(digestDirectory(source, { signal: stop.signal })).rejects.toBe(reason)
  })
})
