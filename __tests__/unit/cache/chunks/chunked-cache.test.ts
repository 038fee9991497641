import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { PATH_ANNOTATION } from '../../../../src/cache/cache-annotations.js'
import { cacheContentsOf, cacheLayersOf, NotACacheError } from '../../../../src/cache/cache-manifest.js'
import { publishCache } from '../../../../src/cache/cache-publish.js'
import { cacheTag } from '../../../../src/cache/cache-tag.js'
import { assembleChunkedCache, findBaseChunks } from '../../../../src/cache/chunks/chunked-cache.js'
import { saveChunkedTar } from '../../../../src/cache/chunks/chunked-save.js'
import { silentLogger } from '../../../../src/oci/logger.js'
import { buildManifest } from '../../../../src/oci/manifest.js'
import { MediaType } from '../../../../src/oci/media-types.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'

const SCOPE = 'refs/heads/main'
const VERSION = 'v'
let clock = Date.UTC(2026, 0, 1)
const nextTime = () => new Date((clock += 60_000)).toISOString()

// a chunked cache of `data` saved into `registry` under `key`, as the cache mode saves one
async function saveChunked(registry: MemoryRegistry, key: string, data: Buffer) {
  const saved = await saveChunkedTar(
    async (emit) => {
      await emit(data)
      return { uncompressedSize: data.length, files: 1 }
    },
    {
      sizeClass: 0,
      known: new Map(),
      concurrency: 2,
      put: async (layer, parts) => {
        await registry.pushBlob(layer, () => Readable.from(parts))
        return layer.size
      },
    },
  )
  const { layers, map } = assembleChunkedCache(
    [{ annotations: { [PATH_ANNOTATION]: 'target' }, size: data.length, chunks: saved.chunks }],
    3,
  )
  await registry.pushBlob(map.descriptor, () => Readable.from([map.bytes]))
  await publishCache(
    registry,
    { scope: SCOPE, key, created: nextTime(), layers, version: VERSION, chunkMap: map.descriptor },
    silentLogger,
    { sleep: async () => {} },
  )
  return saved
}

describe('a chunked cache manifest', () => {
  it('is told apart from a one-layer cache, and refused by the one-layer reader', async () => {
    const registry = new MemoryRegistry()
    await saveChunked(registry, 'k', randomBytes(3 << 20))
    const tag = cacheTag(SCOPE, 'k', VERSION)
    const { bytes } = await registry.getManifest(tag)
    const contents = cacheContentsOf(bytes, 'k', tag, VERSION)
    expect(contents.format).toBe('chunked')
    expect(() => cacheLayersOf(bytes, 'k', tag, VERSION)).toThrow(NotACacheError)
  })

  it('of a format this version does not know is not a cache of ours', () => {
    const manifest = buildManifest({
      artifactType: 'application/vnd.oci-artifact-action.cache.v1',
      layers: [{ mediaType: MediaType.LayerTarZstd, digest: `sha256:${'a'.repeat(64)}`, size: 1 }],
      annotations: {
        'io.github.oci-artifact-action.cache.key': 'k',
        'io.github.oci-artifact-action.cache.format': 'chunked-v9',
      },
    })
    expect(() => cacheContentsOf(manifest.bytes, 'k', 'ref')).toThrow(/format chunked-v9 is unknown/)
  })
})

describe('the base a chunked save builds on', () => {
  it('is the restored cache when there is one, with its chunks and its size class', async () => {
    const registry = new MemoryRegistry()
    const first = await saveChunked(registry, 'build-1', randomBytes(3 << 20))
    await saveChunked(registry, 'build-2', randomBytes(1 << 20))
    const base = await findBaseChunks(
      registry,
      {
        restored: { key: 'build-1', reference: cacheTag(SCOPE, 'build-1', VERSION) },
        scope: SCOPE,
        version: VERSION,
      },
      silentLogger,
    )
    expect(base?.key).toBe('build-1')
    expect(base?.sizeClass).toBe(3)
    expect([...(base?.known.keys() ?? [])].sort()).toEqual(first.chunks.map((c) => c.digest).sort())
  })

  it('after a miss, is the newest cache of the same paths in the scope', async () => {
    const registry = new MemoryRegistry()
    await saveChunked(registry, 'build-1', randomBytes(1 << 20))
    const newest = await saveChunked(registry, 'build-2', randomBytes(1 << 20))
    const base = await findBaseChunks(registry, { scope: SCOPE, version: VERSION }, silentLogger)
    expect(base?.key).toBe('build-2')
    expect([...(base?.known.keys() ?? [])]).toEqual(newest.chunks.map((c) => c.digest))
    // other paths (another version) have nothing to build on
    expect(await findBaseChunks(registry, { scope: SCOPE, version: 'other' }, silentLogger)).toBeUndefined()
  })
})
