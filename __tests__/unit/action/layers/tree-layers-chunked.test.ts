import { describe, expect, it } from '@jest/globals'
import { createCipheriv, randomBytes } from 'node:crypto'
import { uploadTreeLayers, type ChunkedTreePart } from '../../../../src/action/layers/tree-layers.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'

const data = Buffer.concat([randomBytes(5 << 20), Buffer.from('text line\n'.repeat(300_000))])
const part = (bytes: Buffer, sizeClass = 0): ChunkedTreePart => ({
  kind: 'chunked',
  label: 'target',
  sizeClass,
  known: new Map(),
  size: bytes.length,
  tar: async (emit: (b: Buffer) => Promise<void>) => {
    for (let at = 0; at < bytes.length; at += 1 << 20) await emit(bytes.subarray(at, at + (1 << 20)))
    return { uncompressedSize: bytes.length, files: 1 }
  },
})

// a chunked part goes up through the one path of tree layers, as a packed part does
const upload = async (registry: MemoryRegistry, bytes: Buffer, sizeClass = 0) => {
  const saved = await uploadTreeLayers(registry, [part(bytes, sizeClass)], { stream: true })
  expect(saved.layers).toEqual([])
  const chunked = saved.chunked[0]
  if (!chunked) throw new Error('no chunks for the chunked part')
  expect(saved.uploaded).toBe(chunked.sent)
  return chunked
}

describe('a chunked tree part', () => {
  it('uploads each new chunk once, and what the registry holds not again, even when no base names it', async () => {
    const registry = new MemoryRegistry()
    const first = await upload(registry, data)
    expect(first.newChunks).toBe(first.chunks.length)
    expect(new Set(first.chunks.map((c) => c.layer.digest)).size).toBe(registry.blobs.size)
    expect(first.sent).toBe([...registry.blobs.values()].reduce((n, b) => n + b.length, 0))
    for (const chunk of first.chunks) {
      expect(registry.blobs.get(chunk.layer.digest)?.length).toBe(chunk.layer.size)
    }
    // no base: every chunk is compressed and offered, and the existence check finds them all
    const again = await upload(registry, data)
    expect(again.newChunks).toBe(first.chunks.length)
    expect(again.sent).toBe(0)
  })

  it('stops asking the registry once the first new chunks were all missing, and asks for every chunk once one was held', async () => {
    const registry = new MemoryRegistry()
    let asked = 0
    const blobExists = registry.blobExists.bind(registry)
    registry.blobExists = (digest: string) => {
      asked++
      return blobExists(digest)
    }
    // far more chunks than the probe asks about: fixed incompressible bytes (AES-CTR of zeros), so
    // the chunk count is the same in every run (random bytes gave 40 now and then)
    const many = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16)).update(
      Buffer.alloc(48 << 20),
    )
    const first = await upload(registry, many)
    expect(first.newChunks).toBeGreaterThan(40)
    // the first 16, and those already on their way when the 16th answer came
    expect(asked).toBeGreaterThanOrEqual(16)
    expect(asked).toBeLessThan(first.newChunks / 2)
    expect(first.sent).toBe([...registry.blobs.values()].reduce((n, b) => n + b.length, 0))
    asked = 0
    const again = await upload(registry, many)
    expect(asked).toBe(again.newChunks)
    expect(again.sent).toBe(0)
  })
})
