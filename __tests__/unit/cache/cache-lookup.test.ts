import { describe, expect, it } from '@jest/globals'
import { findCache, loadCacheLayers } from '../../../src/cache/cache-lookup.js'
import { PATH_ANNOTATION } from '../../../src/cache/cache-annotations.js'
import { buildCacheManifest } from '../../../src/cache/cache-manifest.js'
import { publishCache } from '../../../src/cache/cache-publish.js'
import { cacheTag, indexTag } from '../../../src/cache/cache-tag.js'
import type { Descriptor } from '../../../src/oci/descriptor.js'
import { silentLogger, type Logger } from '../../../src/oci/logger.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { MemoryRegistry } from '../../helpers/memory-registry.js'

const MAIN = 'refs/heads/main'
const PR = 'refs/pull/7/merge'

function layer(n: number): Descriptor {
  const annotations = { [PATH_ANNOTATION]: 'node_modules' }
  return {
    mediaType: MediaType.LayerTarZstd,
    digest: `sha256:${String(n).padStart(64, '0')}`,
    size: n,
    annotations,
  }
}

let clock = Date.UTC(2026, 0, 1)
function nextTime(): string {
  clock += 60_000
  return new Date(clock).toISOString()
}

async function save(registry: MemoryRegistry, scope: string, key: string, n = 1) {
  return publishCache(registry, { scope, key, created: nextTime(), layers: [layer(n)] }, silentLogger, {
    sleep: async () => {},
  })
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = []
  return { debug: () => {}, info: () => {}, warning: (m) => warnings.push(m), warnings }
}

describe('findCache', () => {
  it('an exact hit in the job’s own scope is one request', async () => {
    const registry = new MemoryRegistry()
    await save(registry, MAIN, 'npm-abc')
    registry.requests.length = 0
    const match = await findCache(
      registry,
      { scopes: [MAIN], key: 'npm-abc', restoreKeys: ['npm-'] },
      silentLogger,
    )
    expect(match).toMatchObject({ key: 'npm-abc', scope: MAIN, exact: true })
    expect(registry.requests).toEqual([`GET manifest ${cacheTag(MAIN, 'npm-abc')}`])
  })

  it('a restore-keys lookup is one index GET per scope on top of the exact GETs', async () => {
    const registry = new MemoryRegistry()
    for (let i = 0; i < 20; i++) await save(registry, MAIN, `npm-${i}`, i + 1)
    registry.requests.length = 0
    const match = await findCache(
      registry,
      { scopes: [MAIN], key: 'npm-new', restoreKeys: ['npm-'] },
      silentLogger,
    )
    expect(match).toMatchObject({ key: 'npm-19', exact: false })
    expect(registry.requests).toEqual([
      `GET manifest ${cacheTag(MAIN, 'npm-new')}`,
      `GET manifest ${indexTag(MAIN)}`,
    ])
  })

  it('picks the newest of several prefix matches, and its layer loads', async () => {
    const registry = new MemoryRegistry()
    await save(registry, MAIN, 'build-linux-1', 1)
    await save(registry, MAIN, 'build-linux-3', 3)
    await save(registry, MAIN, 'build-linux-2', 2)
    const match = await findCache(
      registry,
      { scopes: [MAIN], key: 'build-linux-9', restoreKeys: ['build-linux-'] },
      silentLogger,
    )
    expect(match?.key).toBe('build-linux-2')
    expect(await loadCacheLayers(registry, match!)).toEqual([layer(2)])
  })

  it('matches the key itself as a prefix before the restore keys, as actions/cache does', async () => {
    const registry = new MemoryRegistry()
    await save(registry, MAIN, 'npm-abc-extra', 1)
    await save(registry, MAIN, 'npm-other', 2)
    const match = await findCache(
      registry,
      { scopes: [MAIN], key: 'npm-abc', restoreKeys: ['npm-'] },
      silentLogger,
    )
    expect(match).toMatchObject({ key: 'npm-abc-extra', exact: false })
  })

  it('looks in the job’s own scope before the base and default branches', async () => {
    const registry = new MemoryRegistry()
    await save(registry, MAIN, 'npm-abc', 1)
    await save(registry, PR, 'npm-old', 2)
    const scopes = [PR, MAIN]
    // the PR's own prefix match comes before main's exact one: the search is scope by scope
    expect(
      await findCache(registry, { scopes, key: 'npm-abc', restoreKeys: ['npm-'] }, silentLogger),
    ).toMatchObject({
      key: 'npm-old',
      scope: PR,
      exact: false,
    })
    // with nothing in the PR's scope, main's exact cache is a hit
    expect(
      await findCache(registry, { scopes, key: 'npm-abc', restoreKeys: ['yarn-'] }, silentLogger),
    ).toMatchObject({
      key: 'npm-abc',
      scope: MAIN,
      exact: true,
    })
  })

  it('never sees a cache saved in a scope it does not restore from', async () => {
    const registry = new MemoryRegistry()
    await save(registry, PR, 'npm-abc')
    expect(
      await findCache(registry, { scopes: [MAIN], key: 'npm-abc', restoreKeys: ['npm-'] }, silentLogger),
    ).toBeUndefined()
  })

  it('ignores a tag that does not hold the key asked for, with a warning', async () => {
    const registry = new MemoryRegistry()
    const forged = buildCacheManifest({ scope: MAIN, key: 'other', created: nextTime(), layers: [layer(1)] })
    await registry.putManifest(forged.bytes, forged.mediaType, cacheTag(MAIN, 'npm-abc'))
    const logger = recordingLogger()
    expect(
      await findCache(registry, { scopes: [MAIN], key: 'npm-abc', restoreKeys: [] }, logger),
    ).toBeUndefined()
    expect(logger.warnings.join('\n')).toMatch(/holds key 'other', not 'npm-abc'/)
  })

  it('treats an unreadable index as empty, with a warning', async () => {
    const registry = new MemoryRegistry()
    await registry.putManifest(Buffer.from('not json'), MediaType.OciIndex, indexTag(MAIN))
    const logger = recordingLogger()
    expect(
      await findCache(registry, { scopes: [MAIN], key: 'k', restoreKeys: ['k'] }, logger),
    ).toBeUndefined()
    expect(logger.warnings.join('\n')).toMatch(/unreadable cache index/)
  })

  it('lets registry failures other than 404 through, for the caller to fall back', async () => {
    const registry = new MemoryRegistry()
    registry.getManifest = async () => {
      throw new Error('fetch failed')
    }
    await expect(
      findCache(registry, { scopes: [MAIN], key: 'k', restoreKeys: [] }, silentLogger),
    ).rejects.toThrow('fetch failed')
  })
})
