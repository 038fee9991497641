import { describe, expect, it } from '@jest/globals'
import { buildCacheIndex, parseCacheIndex, type CacheEntry } from '../../../src/cache/cache-index.js'
import { readIndex } from '../../../src/cache/cache-lookup.js'
import { buildCacheManifest } from '../../../src/cache/cache-manifest.js'
import { publishCache } from '../../../src/cache/cache-publish.js'
import { cacheTag, indexTag } from '../../../src/cache/cache-tag.js'
import { silentLogger, type Logger } from '../../../src/oci/logger.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { MemoryRegistry } from '../../helpers/memory-registry.js'

const MAIN = 'refs/heads/main'
const noWait = { sleep: async () => {} }
const layer = { mediaType: MediaType.LayerTarZstd, digest: `sha256:${'a'.repeat(64)}`, size: 10 }

async function keysIn(registry: MemoryRegistry, scope = MAIN): Promise<string[]> {
  return (await readIndex(registry, scope, silentLogger)).entries.map((e) => e.key)
}

function fields(key: string, minute: number) {
  return {
    scope: MAIN,
    key,
    created: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
    layers: [layer],
  }
}

// Counts the index PUTs from now on.
function countIndexWrites(registry: MemoryRegistry): () => number {
  const put = registry.putManifest.bind(registry)
  let writes = 0
  registry.putManifest = async (bytes, mediaType, ref) => {
    if (ref === indexTag(MAIN)) writes++
    return put(bytes, mediaType, ref)
  }
  return () => writes
}

describe('publishCache', () => {
  it('tags the manifest under the key’s tag and lists it in the scope’s index', async () => {
    const registry = new MemoryRegistry()
    const saved = await publishCache(registry, fields('npm-1', 1), silentLogger, noWait)
    expect(saved).toMatchObject({ tag: cacheTag(MAIN, 'npm-1'), indexed: true })
    expect(registry.tags.get(cacheTag(MAIN, 'npm-1'))).toBe(saved.digest)
    await publishCache(registry, fields('npm-2', 2), silentLogger, noWait)
    expect(await keysIn(registry)).toEqual(['npm-1', 'npm-2'])
  })

  it('saving a key again replaces its entry rather than listing it twice', async () => {
    const registry = new MemoryRegistry()
    await publishCache(registry, fields('npm-1', 1), silentLogger, noWait)
    await publishCache(registry, fields('npm-2', 2), silentLogger, noWait)
    const again = await publishCache(registry, fields('npm-1', 3), silentLogger, noWait)
    const { entries } = await readIndex(registry, MAIN, silentLogger)
    expect(entries.map((e) => e.key)).toEqual(['npm-2', 'npm-1'])
    expect(entries[1]?.manifest.digest).toBe(again.digest)
  })

  it('when another save overwrites the index right after ours, the re-read merges both entries back', async () => {
    const registry = new MemoryRegistry()
    await publishCache(registry, fields('base', 0), silentLogger, noWait)
    // The other job's cache manifest is in the repository; its index write was built from the
    // index as it was before ours, and lands just after ours.
    const theirs = buildCacheManifest(fields('theirs', 1))
    await registry.putManifest(theirs.bytes, theirs.mediaType, cacheTag(MAIN, 'theirs'))
    const theirEntry: CacheEntry = {
      key: 'theirs',
      created: fields('theirs', 1).created,
      manifest: { mediaType: MediaType.OciManifest, digest: theirs.digest, size: theirs.bytes.length },
    }
    const put = registry.putManifest.bind(registry)
    let raced = false
    registry.putManifest = async (bytes, mediaType, ref) => {
      const digest = await put(bytes, mediaType, ref)
      if (ref === indexTag(MAIN) && !raced) {
        raced = true
        const stale = parseCacheIndex(bytes).filter((e) => e.key !== 'ours')
        const overwrite = buildCacheIndex(MAIN, [...stale, theirEntry])
        await put(overwrite.bytes, overwrite.mediaType, ref)
      }
      return digest
    }
    await publishCache(registry, fields('ours', 2), silentLogger, noWait)
    expect(raced).toBe(true)
    expect(await keysIn(registry)).toEqual(['base', 'theirs', 'ours'])
  })

  it('gives up on the index after a few rounds when other saves keep replacing it, but keeps the save', async () => {
    const registry = new MemoryRegistry()
    await publishCache(registry, fields('base', 0), silentLogger, noWait)
    const put = registry.putManifest.bind(registry)
    let rounds = 0
    registry.putManifest = async (bytes, mediaType, ref) => {
      const digest = await put(bytes, mediaType, ref)
      if (ref === indexTag(MAIN)) {
        rounds++
        const others = parseCacheIndex(bytes).filter((e) => e.key !== 'ours')
        const overwrite = buildCacheIndex(MAIN, others)
        await put(overwrite.bytes, overwrite.mediaType, ref)
      }
      return digest
    }
    const warnings: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warning: (m) => warnings.push(m) }
    const saved = await publishCache(registry, fields('ours', 1), logger, noWait)
    expect(saved.indexed).toBe(false)
    expect(rounds).toBe(5)
    expect(registry.tags.has(cacheTag(MAIN, 'ours'))).toBe(true)
    expect(warnings.join('\n')).toMatch(/other saves kept replacing the index/)
  })

  it('an older save of a key the index already lists from a newer save leaves the index alone, without a warning', async () => {
    const registry = new MemoryRegistry()
    const newer = await publishCache(registry, fields('npm-1', 5), silentLogger, noWait)
    const writes = countIndexWrites(registry)
    const warnings: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warning: (m) => warnings.push(m) }
    const older = await publishCache(registry, fields('npm-1', 3), logger, noWait)
    expect(older.indexed).toBe(true)
    expect(warnings).toEqual([])
    expect(writes()).toBe(0)
    const { entries } = await readIndex(registry, MAIN, silentLogger)
    expect(entries.map((e) => [e.key, e.manifest.digest])).toEqual([['npm-1', newer.digest]])
  })

  it('two saves of one key at once both succeed, and the index lists the newer', async () => {
    const registry = new MemoryRegistry()
    const warnings: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warning: (m) => warnings.push(m) }
    const writes = countIndexWrites(registry)
    const [, newer] = await Promise.all([
      publishCache(registry, fields('npm-1', 1), logger, noWait),
      publishCache(registry, fields('npm-1', 2), logger, noWait),
    ])
    expect(warnings).toEqual([])
    expect(writes()).toBeLessThanOrEqual(2)
    const { entries } = await readIndex(registry, MAIN, silentLogger)
    expect(entries.map((e) => [e.key, e.manifest.digest])).toEqual([['npm-1', newer!.digest]])
  })

  it('drops caches deleted from the repository when the registry refuses an index that names them', async () => {
    const registry = new MemoryRegistry()
    const gone = await publishCache(registry, fields('gone', 1), silentLogger, noWait)
    await publishCache(registry, fields('kept', 2), silentLogger, noWait)
    registry.delete(gone.digest)
    await publishCache(registry, fields('new', 3), silentLogger, noWait)
    expect(await keysIn(registry)).toEqual(['kept', 'new'])
  })

  it('a save whose index cannot be written still counts, with a warning that restore-keys will miss it', async () => {
    const registry = new MemoryRegistry()
    const put = registry.putManifest.bind(registry)
    registry.putManifest = async (bytes, mediaType, ref) => {
      if (ref === indexTag(MAIN)) throw new Error('index write refused')
      return put(bytes, mediaType, ref)
    }
    const warnings: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warning: (m) => warnings.push(m) }
    const saved = await publishCache(registry, fields('npm-1', 1), logger, noWait)
    expect(saved.indexed).toBe(false)
    expect(registry.tags.has(cacheTag(MAIN, 'npm-1'))).toBe(true)
    expect(warnings.join('\n')).toMatch(/restore-keys will not find it.*index write refused/)
  })

  it('a failure to put the cache manifest itself is the caller’s to handle', async () => {
    const registry = new MemoryRegistry()
    registry.putManifest = async () => {
      throw new Error('denied')
    }
    await expect(publishCache(registry, fields('npm-1', 1), silentLogger, noWait)).rejects.toThrow('denied')
  })
})
