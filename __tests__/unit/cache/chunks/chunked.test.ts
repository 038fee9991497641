import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  buildChunkMap,
  readChunkMap,
  sizeClassFor,
  ChunkMapError,
  CHUNK_MEDIA_TYPE,
} from '../../../../src/cache/chunks/chunk-map.js'
import { chunkedTarStream } from '../../../../src/cache/chunks/chunked-restore.js'
import { saveChunkedTar, type SavedChunk } from '../../../../src/cache/chunks/chunked-save.js'
import type { Descriptor } from '../../../../src/oci/descriptor.js'

// A stand-in registry of blobs: what a save puts, a restore fetches (checking nothing itself)
function blobStore() {
  const blobs = new Map<string, Buffer>()
  return {
    blobs,
    put: async (layer: Descriptor, parts: Buffer[]) => {
      if (blobs.has(layer.digest)) return 0
      const bytes = Buffer.concat(parts)
      blobs.set(layer.digest, bytes)
      return bytes.length
    },
    fetch: async (layer: Descriptor) => Readable.from([blobs.get(layer.digest) as Buffer]),
  }
}

function produceFrom(data: Buffer) {
  return async (emit: (b: Buffer) => Promise<void>) => {
    for (let at = 0; at < data.length; at += 1 << 20) await emit(data.subarray(at, at + (1 << 20)))
    return { uncompressedSize: data.length, files: 1 }
  }
}

async function read(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

// the map's layers and refs, as the cache save builds them
function layout(chunks: SavedChunk[]) {
  const layers: Descriptor[] = []
  const index = new Map<string, number>()
  const refs = chunks.map((c) => {
    let i = index.get(c.layer.digest)
    if (i === undefined) {
      i = layers.push(c.layer) - 1
      index.set(c.layer.digest, i)
    }
    return { layer: i, digest: c.digest, size: c.size }
  })
  return { layers, refs }
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

describe('a chunked save and restore', () => {
  // half random, half text-like so compression has something to do
  const data = Buffer.concat([randomBytes(6 << 20), Buffer.from('line of text\n'.repeat(500_000))])

  it('restores the bytes saved, and a second save of the same bytes sends nothing', async () => {
    const store = blobStore()
    const first = await saveChunkedTar(produceFrom(data), {
      sizeClass: 0,
      known: new Map(),
      put: store.put,
      concurrency: 3,
    })
    expect(first.newChunks).toBe(first.chunks.length)
    expect(first.sent).toBeGreaterThan(0)
    const { layers, refs } = layout(first.chunks)
    const restored = await read(chunkedTarStream(refs, layers, store.fetch, { sizeClass: 0, concurrency: 4 }))
    expect(sha(restored)).toBe(sha(data))

    const known = new Map(first.chunks.map((c) => [c.digest, c.layer]))
    const again = await saveChunkedTar(produceFrom(data), {
      sizeClass: 0,
      known,
      put: store.put,
      concurrency: 3,
    })
    expect(again.newChunks).toBe(0)
    expect(again.sent).toBe(0)
    expect(again.reused).toBe(data.length)
  })

  it('sends about one chunk for a few bytes inserted near the start', async () => {
    const store = blobStore()
    const first = await saveChunkedTar(produceFrom(data), {
      sizeClass: 0,
      known: new Map(),
      put: store.put,
      concurrency: 2,
    })
    const changed = Buffer.concat([data.subarray(0, 300_000), Buffer.from('xyz'), data.subarray(300_000)])
    const known = new Map(first.chunks.map((c) => [c.digest, c.layer]))
    const second = await saveChunkedTar(produceFrom(changed), {
      sizeClass: 0,
      known,
      put: store.put,
      concurrency: 2,
    })
    expect(second.newChunks).toBeLessThanOrEqual(2)
    const { layers, refs } = layout(second.chunks)
    expect(
      sha(await read(chunkedTarStream(refs, layers, store.fetch, { sizeClass: 0, concurrency: 2 }))),
    ).toBe(sha(changed))
  })

  it('refuses a chunk whose bytes are not what the map says', async () => {
    const store = blobStore()
    const saved = await saveChunkedTar(produceFrom(data), {
      sizeClass: 0,
      known: new Map(),
      put: store.put,
      concurrency: 2,
    })
    const { layers, refs } = layout(saved.chunks)
    // the map points chunk 2 at chunk 1's blob (a manifest that maps a chunk wrongly)
    const wrong = refs.map((r, i) => (i === 2 ? { ...r, layer: refs[1]!.layer } : r))
    await expect(
      read(chunkedTarStream(wrong, layers, store.fetch, { sizeClass: 0, concurrency: 2 })),
    ).rejects.toThrow(/does not match its digest/)
  })

  it('refuses a blob longer than the manifest says, before decompressing it', async () => {
    const store = blobStore()
    const saved = await saveChunkedTar(produceFrom(data), {
      sizeClass: 0,
      known: new Map(),
      put: store.put,
      concurrency: 2,
    })
    const { layers, refs } = layout(saved.chunks)
    const longer = async (layer: Descriptor) =>
      Readable.from([store.blobs.get(layer.digest) as Buffer, Buffer.from('more')])
    await expect(
      read(chunkedTarStream(refs, layers, longer, { sizeClass: 0, concurrency: 2 })),
    ).rejects.toThrow(/does not match its digest/)
  })

  it('keeps downloading while the reader is slow, within the count and the window', async () => {
    const store = blobStore()
    // compressible chunks (hex: half their size compressed): the compressed window holds all of them
    const text = Buffer.from(randomBytes(8 << 20).toString('hex'))
    const saved = await saveChunkedTar(produceFrom(text), {
      sizeClass: 0,
      known: new Map(),
      put: store.put,
      concurrency: 2,
    })
    const { layers, refs } = layout(saved.chunks)
    expect(refs.length).toBeGreaterThan(8)
    let active = 0
    let most = 0
    let started = 0
    const slow = async (layer: Descriptor) => {
      started++
      active++
      most = Math.max(most, active)
      await new Promise((resolve) => setTimeout(resolve, 2))
      active--
      return Readable.from([store.blobs.get(layer.digest) as Buffer])
    }
    const stream = chunkedTarStream(refs, layers, slow, { sizeClass: 0, concurrency: 3 })
    const parts: Buffer[] = []
    let startedAtFirst = -1
    for await (const part of stream) {
      if (startedAtFirst < 0) {
        // the reader holds the first chunk: the downloads behind it go on meanwhile
        await new Promise((resolve) => setTimeout(resolve, 100))
        startedAtFirst = started
      }
      parts.push(part as Buffer)
    }
    expect(sha(Buffer.concat(parts))).toBe(sha(text))
    expect(most).toBeLessThanOrEqual(3)
    expect(startedAtFirst).toBe(refs.length)
  })
})

describe('the chunk map', () => {
  const layer: Descriptor = { mediaType: CHUNK_MEDIA_TYPE, digest: `sha256:${'a'.repeat(64)}`, size: 10 }
  const ref = { layer: 0, digest: `sha256:${'b'.repeat(64)}`, size: 100 }
  const map = { sizeClass: 0, paths: [{ annotations: { p: 'x' }, size: 200, chunks: [ref, ref] }] }

  it('reads back what it wrote', () => {
    expect(readChunkMap(buildChunkMap(map).bytes, [layer])).toEqual(map)
  })

  it.each([
    [
      'a chunk naming a layer the manifest lacks',
      { ...map, paths: [{ ...map.paths[0]!, chunks: [{ ...ref, layer: 1 }, ref] }] },
    ],
    [
      'a chunk larger than its class allows',
      { ...map, paths: [{ ...map.paths[0]!, size: 8 << 20, chunks: [{ ...ref, size: 8 << 20 }] }] },
    ],
  ])('refuses %s', (_, bad) => {
    expect(() => readChunkMap(buildChunkMap(bad).bytes, [layer])).toThrow(ChunkMapError)
  })

  it('picks a class that keeps any tree up to 100 GB within the manifest bound', () => {
    expect(sizeClassFor(1 << 30)).toBe(0)
    expect(sizeClassFor(4 * 2 ** 30)).toBe(0)
    expect(sizeClassFor(5 * 2 ** 30)).toBe(1)
    const k = sizeClassFor(100e9)
    expect(k).toBe(5)
    // at most size/min chunks + one per path, each a ~170-byte descriptor: within 4 MiB
    expect((100e9 / ((1 << (20 + k)) / 4)) * 170).toBeLessThan(4 << 20)
  })
})
