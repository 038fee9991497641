import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { gunzipSync, deflateRawSync } from 'node:zlib'
import { looksIncompressible } from '../../../src/archive/incompressible.js'
import { GZIP_CHUNK_SIZE, ParallelGzip, storedBlocks } from '../../../src/archive/parallel-gzip.js'
import { inflateRawSync } from 'node:zlib'

async function gzipWith(data: Buffer, pieceSizes: number[], concurrency = 3): Promise<Buffer> {
  const out: Buffer[] = []
  const gzip = new ParallelGzip(6, concurrency, async (chunk, onWritten) => {
    out.push(Buffer.from(chunk))
    onWritten?.()
  })
  let at = 0
  let i = 0
  while (at < data.length) {
    const size = pieceSizes[i++ % pieceSizes.length] as number
    await gzip.write(data.subarray(at, at + size))
    at += size
  }
  await gzip.end()
  return Buffer.concat(out)
}

function mixedData(): Buffer {
  const text = Buffer.from('2026-01-01 INFO request served in 12 ms from cache\n'.repeat(60000))
  return Buffer.concat([text, randomBytes(2 * GZIP_CHUNK_SIZE + 1234), text.subarray(0, 777777)])
}

describe('ParallelGzip', () => {
  it('writes one gzip member any gunzip reads back', async () => {
    const data = mixedData()
    const gz = await gzipWith(data, [GZIP_CHUNK_SIZE])
    expect(gunzipSync(gz).equals(data)).toBe(true)
    expect(gz.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))
  })

  it('produces the same bytes however the input is split and however many chunks are in flight', async () => {
    const data = mixedData()
    const whole = await gzipWith(data, [data.length])
    expect((await gzipWith(data, [1, 511, 65536, 1000003], 1)).equals(whole)).toBe(true)
    expect((await gzipWith(data, [GZIP_CHUNK_SIZE], 8)).equals(whole)).toBe(true)
  })

  it('stores random data instead of deflating it, at stored-block overhead', async () => {
    const data = randomBytes(4 * GZIP_CHUNK_SIZE)
    const gz = await gzipWith(data, [GZIP_CHUNK_SIZE])
    expect(gunzipSync(gz).equals(data)).toBe(true)
    expect(gz.length).toBeLessThan(data.length * 1.001 + 100)
  })

  it('still compresses text to what plain deflate achieves', async () => {
    const text = Buffer.from(
      Array.from(
        { length: 200000 },
        (_, i) => `line ${i} user=${i % 97} action=${['get', 'put', 'list'][i % 3]}\n`,
      ).join(''),
    )
    const gz = await gzipWith(text, [GZIP_CHUNK_SIZE])
    expect(gz.length).toBeLessThan(deflateRawSync(text, { level: 6 }).length * 1.01)
  })

  it('handles empty input', async () => {
    expect(gunzipSync(await gzipWith(Buffer.alloc(0), [1])).length).toBe(0)
  })
})

describe('stored blocks and the incompressibility test', () => {
  it('stored blocks inflate back to the chunk', () => {
    const chunk = randomBytes(200000)
    // a final empty stored block closes the raw stream for inflate
    const raw = Buffer.concat([storedBlocks(chunk), Buffer.from([1, 0, 0, 0xff, 0xff])])
    expect(inflateRawSync(raw).equals(chunk)).toBe(true)
  })

  it('calls random and already-compressed data incompressible, text and structured binaries not', () => {
    const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(30000))
    expect(looksIncompressible(randomBytes(GZIP_CHUNK_SIZE))).toBe(true)
    // deflate output of varied text is the typical already-compressed file (a .gz, a jar entry)
    const words = Array.from({ length: 300000 }, (_, i) =>
      ((i * 2654435761) >>> 0).toString(36).slice(0, 2 + (i % 7)),
    )
    const compressed = deflateRawSync(Buffer.from(words.join(' ')), { level: 9 })
    expect(compressed.length).toBeGreaterThan(4 * 65536)
    expect(looksIncompressible(compressed)).toBe(true)
    expect(looksIncompressible(text)).toBe(false)
    const binary = Buffer.alloc(GZIP_CHUNK_SIZE)
    for (let i = 0; i < binary.length; i += 4) binary.writeUInt32LE((i * 2654435761) >>> 8, i)
    expect(looksIncompressible(binary)).toBe(false)
  })
})
