import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { FrameCompressor } from '../../../src/archive/parallel-zstd.js'
import { tempDir } from './tree.js'

// Node's zstd decoder returns at the end of a frame, and after some blocks, with input left over;
// the stream zlib offers took that for the end of the stream and failed on the next frame's bytes
// (an unhandled error), when a frame ended inside a piece of input. Extraction goes on.
describe('extracting a zstd layer of many frames', () => {
  it('reads every frame, wherever the pieces of input end', async () => {
    const root = tempDir()
    const source = path.join(root, 'src')
    mkdirSync(path.join(source, 'a/b'), { recursive: true })
    for (let i = 0; i < 120; i++) {
      writeFileSync(path.join(source, `a/b/f${i}.txt`), randomBytes(20_000 + i * 97).toString('base64'))
    }
    const tarFile = path.join(root, 'layer.tar')
    execFileSync('tar', ['-C', source, '-cf', tarFile, '.'])
    const tar = readFileSync(tarFile)
    const compressor = new FrameCompressor(3)
    const parts: Buffer[] = []
    // frames of 300,000 bytes: their ends fall anywhere in the pieces below
    for (let at = 0; at < tar.length; at += 300_000)
      parts.push(...(await compressor.compress(tar.subarray(at, at + 300_000))))
    const layer = Buffer.concat(parts)
    for (const piece of [777, 65_536, 1 << 20]) {
      const chunks: Buffer[] = []
      for (let at = 0; at < layer.length; at += piece) chunks.push(layer.subarray(at, at + piece))
      const dest = path.join(root, `out-${piece}`)
      const result = await extractToDirectory(Readable.from(chunks), dest, { compression: 'zstd' })
      expect(result).toEqual({ files: 120, uncompressedSize: tar.length })
      expect(readFileSync(path.join(dest, 'a/b/f119.txt'))).toEqual(
        readFileSync(path.join(source, 'a/b/f119.txt')),
      )
    }
  })
})
