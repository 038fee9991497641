import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { Chunker, chunkSizes, type ChunkSizes } from '../../../src/archive/chunker.js'

// small sizes so a few MiB make hundreds of chunks
const SIZES: ChunkSizes = { min: 4096, avg: 16384, max: 65536 }

async function cut(data: Buffer, pieces: number[], sizes = SIZES): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  const chunker = new Chunker(sizes, async (chunk) => {
    chunks.push(Buffer.from(chunk))
    chunker.pool.release(chunk)
  })
  let at = 0
  for (let i = 0; at < data.length; i++) {
    const length = pieces[i % pieces.length] as number
    await chunker.write(data.subarray(at, at + length))
    at += length
  }
  await chunker.end()
  return chunks
}

const hashes = (chunks: Buffer[]) => chunks.map((c) => createHash('sha256').update(c).digest('hex'))

describe('the content-defined chunker', () => {
  const data = randomBytes(3 << 20)

  it('cuts the same bytes at the same places however they arrive, and loses none', async () => {
    const whole = await cut(data, [data.length])
    const dribbled = await cut(data, [1, 7000, 65536, 3, 1 << 20])
    expect(Buffer.concat(whole).equals(data)).toBe(true)
    expect(hashes(dribbled)).toEqual(hashes(whole))
  })

  it('keeps every chunk within min and max, and near the average', async () => {
    const chunks = await cut(data, [1 << 20])
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(SIZES.min)
      expect(chunk.length).toBeLessThanOrEqual(SIZES.max)
    }
    const mean = data.length / chunks.length
    expect(mean).toBeGreaterThan(SIZES.avg / 2)
    expect(mean).toBeLessThan(SIZES.avg * 2)
  })

  it('moves no cut after an insertion: only the chunks around it change', async () => {
    const before = hashes(await cut(data, [1 << 20]))
    const at = 100_000
    const inserted = Buffer.concat([data.subarray(0, at), Buffer.from('a few bytes'), data.subarray(at)])
    const after = hashes(await cut(inserted, [1 << 20]))
    const old = new Set(before)
    const fresh = after.filter((h) => !old.has(h))
    expect(fresh.length).toBeLessThanOrEqual(2)
    expect(after.length - fresh.length).toBeGreaterThanOrEqual(before.length - 2)
  })

  it('cuts a run of zeros at max', async () => {
    const chunks = await cut(Buffer.alloc(SIZES.max * 3 + 10), [1 << 20])
    expect(chunks.map((c) => c.length)).toEqual([SIZES.max, SIZES.max, SIZES.max, 10])
  })

  it('sizes classes by powers of two from 1 MiB', () => {
    expect(chunkSizes(0)).toEqual({ min: 256 << 10, avg: 1 << 20, max: 4 << 20 })
    expect(chunkSizes(5).avg).toBe(32 << 20)
  })
})
