import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { createZstdDecompress, zstdDecompressSync } from 'node:zlib'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { ParallelZstd, ZSTD_FRAME_SIZE } from '../../../src/archive/parallel-zstd.js'
import { tempDir } from './tree.js'

async function zstdWith(data: Buffer, pieceSizes: number[], concurrency = 3): Promise<Buffer> {
  const out: Buffer[] = []
  const zstd = new ParallelZstd(3, concurrency, async (bytes) => {
    out.push(bytes)
  })
  let at = 0
  let i = 0
  while (at < data.length) {
    const size = pieceSizes[i++ % pieceSizes.length] as number
    // a copy, as the compressor may hand its input back to a pool
    await zstd.write(Buffer.from(data.subarray(at, at + size)))
    at += size
  }
  await zstd.end()
  return Buffer.concat(out)
}

// ZSTD_MAGICNUMBER (RFC 8878 3.1.1), little-endian
const FRAME_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])

function frameCount(zst: Buffer): number {
  let count = 0
  for (let at = zst.indexOf(FRAME_MAGIC); at !== -1; at = zst.indexOf(FRAME_MAGIC, at + 1)) count++
  return count
}

function mixedData(): Buffer {
  const text = Buffer.from('2026-01-01 INFO request served in 12 ms from cache\n'.repeat(100000))
  return Buffer.concat([text, randomBytes(ZSTD_FRAME_SIZE + 1234), text.subarray(0, 777777)])
}

describe('ParallelZstd', () => {
  it('writes a stream of whole frames that Node and the zstd tool read back', async () => {
    const data = mixedData()
    const zst = await zstdWith(data, [1 << 20])
    // 5 MB of text, 4 MiB of random bytes and 0.8 MB of text: three frames, the last one short
    expect(Math.ceil(data.length / ZSTD_FRAME_SIZE)).toBe(3)
    expect(frameCount(zst)).toBeGreaterThanOrEqual(3)
    expect(zstdDecompressSync(zst).equals(data)).toBe(true)
    expect((await buffer(Readable.from([zst]).pipe(createZstdDecompress()))).equals(data)).toBe(true)
    const file = path.join(tempDir('zstd-'), 'data.zst')
    writeFileSync(file, zst)
    expect(execFileSync('zstd', ['-dc', file], { maxBuffer: 64 << 20 }).equals(data)).toBe(true)
  })

  it('produces the same bytes however the input is split and however many frames are in flight', async () => {
    const data = mixedData()
    const whole = await zstdWith(data, [data.length])
    expect((await zstdWith(data, [1, 511, 65536, 1000003], 1)).equals(whole)).toBe(true)
    expect((await zstdWith(data, [1 << 20], 8)).equals(whole)).toBe(true)
  })

  it('compresses text as well as one zstd stream does', async () => {
    const text = Buffer.from(
      Array.from(
        { length: 300000 },
        (_, i) => `line ${i} user=${i % 97} action=${['get', 'put', 'list'][i % 3]}\n`,
      ).join(''),
    )
    const oneStream = execFileSync('zstd', ['-3', '-c'], { input: text, maxBuffer: 64 << 20 })
    expect((await zstdWith(text, [1 << 20])).length).toBeLessThan(oneStream.length * 1.02)
  })

  it('writes nothing for empty input', async () => {
    expect((await zstdWith(Buffer.alloc(0), [1])).length).toBe(0)
  })
})
