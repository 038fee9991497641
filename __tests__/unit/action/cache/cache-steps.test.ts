import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import type { ExtractOptions } from '../../../../src/archive/types.js'
import { buildCacheManifest } from '../../../../src/cache/cache-manifest.js'
import { publishCache } from '../../../../src/cache/cache-publish.js'
import { PATH_ANNOTATION } from '../../../../src/cache/cache-annotations.js'
import { cacheTag, cacheVersion } from '../../../../src/cache/cache-tag.js'
import { sha256Digest, type Descriptor } from '../../../../src/oci/descriptor.js'
import { RegistryError } from '../../../../src/oci/errors.js'
import { silentLogger } from '../../../../src/oci/logger.js'
import { MediaType } from '../../../../src/oci/media-types.js'
import type { CacheState } from '../../../../src/action/cache/inputs.js'
import type { CacheInputs as Inputs } from '../../../../src/action/cache/inputs.js'
import * as core from '../../../__fixtures__/core.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'

// The decisions between the registry and GitHub's cache service, with both faked: @actions/cache
// (the seam), the registry (an in-memory Repository), and the runner's core functions.

const { outputs, state, messages } = core
const githubCache = {
  isFeatureAvailable: jest.fn(() => true),
  restoreCache: jest.fn(async (..._args: unknown[]): Promise<string | undefined> => undefined),
  saveCache: jest.fn(async (..._args: unknown[]): Promise<number> => 42),
}
let registry: MemoryRegistry
const extracted: string[] = []
const extractOptions: ExtractOptions[] = []

jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('@actions/cache', () => githubCache)
// every Repository the steps open is the test's in-memory registry; the rest of src/ is real
jest.unstable_mockModule('../../../../src/oci/repository.js', () => ({
  Repository: function Repository() {
    return registry
  },
}))
jest.unstable_mockModule('../../../../src/archive/extract.js', () => ({
  extractToDirectory: async (_source: Readable, dest: string, o: ExtractOptions) => {
    extracted.push(dest)
    extractOptions.push(o)
    return { files: 1, uncompressedSize: 5 }
  },
}))

const { restoreCache } = await import('../../../../src/action/cache/restore.js')
const { saveCache } = await import('../../../../src/action/cache/save.js')
const { restoreCacheStep } = await import('../../../../src/action/cache/cache.js')
const { parseCacheInputs: parseInputs } = await import('../../../../src/action/cache/inputs.js')

const MAIN = 'refs/heads/main'
const cacheUrl = process.env.ACTIONS_CACHE_URL
afterAll(() => {
  if (cacheUrl === undefined) delete process.env.ACTIONS_CACHE_URL
  else process.env.ACTIONS_CACHE_URL = cacheUrl
})
// every test caches this one directory: a saved layer names its path line, which a restore checks
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'cache-steps-'))
const VERSION = cacheVersion([cacheDir], process.platform === 'win32')
const layer: Descriptor = {
  mediaType: MediaType.LayerTarZstd,
  digest: sha256Digest('layer'),
  size: 5,
  annotations: { [PATH_ANNOTATION]: cacheDir },
}

function inputs(o: Partial<Inputs> = {}, pathInput = cacheDir): Inputs {
  const values: Record<string, string> = {
    mode: 'cache',
    path: pathInput,
    repository: 'ghcr.io/octo/repo/cache',
    key: 'npm-abc',
    'restore-keys': 'npm-',
  }
  return { ...parseInputs((name) => values[name] ?? '', {}), ...o }
}

function saved(key: string, minute = 0) {
  registry.blobs.set(layer.digest, Buffer.from('layer'))
  const created = new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString()
  return publishCache(
    registry,
    { scope: MAIN, key, created, layers: [layer], version: VERSION },
    silentLogger,
    {
      sleep: async () => {},
    },
  )
}

const unreachable = () => {
  throw new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  })
}
const denied = () => {
  throw new RegistryError({
    method: 'PUT',
    url: 'https://ghcr.io/v2/octo/repo/cache/manifests/x',
    status: 403,
  })
}

beforeEach(() => {
  // what a runner with GitHub's cache service sets; the seam skips the library without it
  process.env.ACTIONS_CACHE_URL = 'http://127.0.0.1:9/'
  registry = new MemoryRegistry()
  core.resetCore()
  extracted.length = 0
  extractOptions.length = 0
  githubCache.isFeatureAvailable.mockReset().mockReturnValue(true)
  githubCache.restoreCache.mockReset().mockResolvedValue(undefined)
  githubCache.saveCache.mockReset().mockResolvedValue(42)
})

describe('restore', () => {
  it('an exact registry hit is restored from the registry, and GitHub’s cache is not asked', async () => {
    await saved('npm-abc')
    const given = inputs()
    expect(await restoreCache(given, [MAIN])).toEqual({
      matchedKey: 'npm-abc',
      source: 'registry',
      registryFailed: false,
      reference: cacheTag(MAIN, 'npm-abc', VERSION),
    })
    expect(extracted).toEqual([given.paths.includes[0]!.pattern])
    // as actions/cache's tar: build tools compare the saved mtimes with their own records
    expect(extractOptions).toEqual([{ compression: 'zstd', restoreMtimes: true }])
    expect(githubCache.restoreCache).not.toHaveBeenCalled()
  })

  it('a registry that cannot be reached sends the whole lookup to GitHub’s cache, restore keys included', async () => {
    registry.getManifest = unreachable
    githubCache.restoreCache.mockResolvedValue('npm-old')
    const given = inputs()
    expect(await restoreCache(given, [MAIN])).toEqual({
      matchedKey: 'npm-old',
      source: 'github',
      registryFailed: true,
    })
    expect(githubCache.restoreCache).toHaveBeenCalledWith(
      [given.paths.includes[0]!.pattern],
      'npm-abc',
      ['npm-'],
      {
        lookupOnly: false,
      },
    )
    expect(messages('warning')).toMatch(
      /Could not look up the cache in ghcr.io\/octo\/repo\/cache: fetch failed/,
    )
  })

  it('with only a partial registry match, an exact key in GitHub’s cache (a fork’s earlier save) wins', async () => {
    await saved('npm-old')
    githubCache.restoreCache.mockImplementation(async (_paths, key) => key as string)
    const given = inputs()
    expect(await restoreCache(given, [MAIN])).toMatchObject({ matchedKey: 'npm-abc', source: 'github' })
    // asked for the key alone: first which key the service would pick, then the restore itself
    expect(githubCache.restoreCache.mock.calls).toEqual([
      [[given.paths.includes[0]!.pattern], 'npm-abc', [], { lookupOnly: true }],
      [[given.paths.includes[0]!.pattern], 'npm-abc', [], { lookupOnly: false }],
    ])
    expect(extracted).toEqual([])
  })

  it('with only a partial registry match, a partial match in GitHub’s cache is not taken over the registry’s', async () => {
    await saved('npm-old')
    githubCache.restoreCache.mockResolvedValue('npm-abc-something-else')
    const given = inputs()
    expect(await restoreCache(given, [MAIN])).toMatchObject({ matchedKey: 'npm-old', source: 'registry' })
    expect(githubCache.restoreCache).toHaveBeenCalledTimes(1)
    expect(extracted).toEqual([given.paths.includes[0]!.pattern])
  })

  it('on runners without GitHub’s cache service, it is never called', async () => {
    githubCache.isFeatureAvailable.mockReturnValue(false)
    registry.getManifest = unreachable
    expect(await restoreCache(inputs(), [MAIN])).toEqual({ matchedKey: '', source: '', registryFailed: true })
    expect(githubCache.restoreCache).not.toHaveBeenCalled()
  })

  it('without the service’s URLs in the environment, the library is not even asked', async () => {
    delete process.env.ACTIONS_CACHE_URL
    registry.getManifest = unreachable
    expect(await restoreCache(inputs(), [MAIN])).toMatchObject({ matchedKey: '', registryFailed: true })
    expect(githubCache.isFeatureAvailable).not.toHaveBeenCalled()
    expect(githubCache.restoreCache).not.toHaveBeenCalled()
  })

  it('lookup-only downloads from neither store', async () => {
    await saved('npm-abc')
    expect(await restoreCache(inputs({ lookupOnly: true }), [MAIN])).toMatchObject({ matchedKey: 'npm-abc' })
    expect(registry.requests.filter((r) => r.startsWith('GET blob'))).toEqual([])
    expect(extracted).toEqual([])

    registry.getManifest = unreachable
    githubCache.restoreCache.mockResolvedValue('npm-abc')
    const given = inputs({ lookupOnly: true })
    await restoreCache(given, [MAIN])
    expect(githubCache.restoreCache).toHaveBeenCalledWith(
      [given.paths.includes[0]!.pattern],
      'npm-abc',
      ['npm-'],
      {
        lookupOnly: true,
      },
    )
  })

  it('a download that fails is a warning and a miss, not a failed step', async () => {
    await saved('npm-abc')
    registry.fetchBlob = async () => {
      throw new Error('connection reset')
    }
    githubCache.isFeatureAvailable.mockReturnValue(false)
    expect(await restoreCache(inputs({ restoreKeys: [] }), [MAIN])).toMatchObject({ matchedKey: '' })
    expect(messages('warning')).toMatch(
      /Could not restore the cache npm-abc from the registry: connection reset/,
    )
  })

  it('the main step sets actions/cache’s outputs and leaves the post step the key to save', async () => {
    await saved('npm-old')
    githubCache.isFeatureAvailable.mockReturnValue(false)
    const given = inputs()
    await restoreCacheStep(given, { GITHUB_REF: 'refs/pull/3/merge', GITHUB_BASE_REF: 'main' })
    expect(outputs).toEqual({
      'cache-primary-key': 'npm-abc',
      'cache-hit': 'false',
      'cache-matched-key': 'npm-old',
    })
    expect(JSON.parse(state['oci-cache'] as string)).toEqual({
      key: 'npm-abc',
      paths: [given.paths.includes[0]!.pattern],
      scope: 'refs/pull/3/merge',
      matchedKey: 'npm-old',
      matchedReference: expect.stringMatching(/^sha256:/),
      hit: false,
      source: 'registry',
      registryFailed: false,
      update: false,
    })
  })
})

describe('save', () => {
  function stateFor(given: Inputs, o: Partial<CacheState> = {}): CacheState {
    return {
      key: given.key,
      paths: given.paths.lines,
      scope: MAIN,
      matchedKey: '',
      hit: false,
      source: '',
      registryFailed: false,
      update: false,
      ...o,
    }
  }

  it('a push the registry refuses goes to GitHub’s cache service, and the log says so', async () => {
    registry.putManifest = denied
    const given = inputs()
    await saveCache(given, stateFor(given))
    expect(githubCache.saveCache).toHaveBeenCalledWith([given.paths.includes[0]!.pattern], 'npm-abc')
    expect(messages('notice')).toMatch(
      /Saving the cache to GitHub's cache service instead of the registry: .*403/,
    )
    expect(messages('warning')).toBe('')
  })

  it('a token that may not push goes to GitHub’s cache service before packing anything', async () => {
    registry.startStreamedUpload = async () => denied()
    const given = inputs({ incremental: false })
    await saveCache(given, stateFor(given))
    expect(githubCache.saveCache).toHaveBeenCalledWith([given.paths.includes[0]!.pattern], 'npm-abc')
    expect(registry.requests.filter((r) => r.startsWith('PUT blob'))).toEqual([])
    expect(messages('info')).not.toMatch(/Packed/)
  })

  it('after a restore that could not reach the registry, the save goes straight to GitHub’s cache', async () => {
    const given = inputs()
    await saveCache(given, stateFor(given, { registryFailed: true }))
    expect(registry.requests).toEqual([])
    expect(githubCache.saveCache).toHaveBeenCalledWith([given.paths.includes[0]!.pattern], 'npm-abc')
  })

  it('without GitHub’s cache service, a refused push is a warning', async () => {
    githubCache.isFeatureAvailable.mockReturnValue(false)
    registry.putManifest = denied
    const given = inputs()
    await saveCache(given, stateFor(given))
    expect(githubCache.saveCache).not.toHaveBeenCalled()
    expect(messages('warning')).toMatch(/^Cache not saved: ghcr.io\/octo\/repo\/cache: PUT .*403/)
  })

  it('a save to the registry uploads the layer, tags the key and does not touch GitHub’s cache', async () => {
    const given = inputs()
    await saveCache(given, stateFor(given), () => new Date('2026-02-01T00:00:00Z'))
    expect(registry.tags.has(cacheTag(MAIN, 'npm-abc', VERSION))).toBe(true)
    expect(registry.requests.filter((r) => r.startsWith('PUT blob'))).toHaveLength(2)
    expect(githubCache.saveCache).not.toHaveBeenCalled()
  })

  it('incremental: a chunk the registry refuses sends the save to GitHub’s cache service', async () => {
    registry.pushBlob = async () => denied()
    const given = inputs({ incremental: true })
    await saveCache(given, stateFor(given))
    expect(githubCache.saveCache).toHaveBeenCalledWith([given.paths.includes[0]!.pattern], 'npm-abc')
    expect(messages('notice')).toMatch(
      /Saving the cache to GitHub's cache service instead of the registry: .*403/,
    )
    expect(messages('warning')).toBe('')
  })

  it('an upload that fails while packing: the tree is packed again, into a file, which goes up', async () => {
    registry.startStreamedUpload = async () => ({
      body: new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('connection reset')) }),
      finish: async () => {
        throw new Error('an upload that failed is not committed')
      },
      abort: async () => {},
    })
    const given = inputs({ incremental: false })
    await saveCache(given, stateFor(given))
    expect(messages('info')).toMatch(
      /Writing the cache layer of \S+ into the upload failed \(connection reset\): writing it again, into a file/,
    )
    // the failed pack logs nothing of its own; the second one does
    expect(messages('info').match(/^Packed /gm)).toHaveLength(1)
    expect(registry.requests.filter((r) => r.startsWith('PUT blob'))).toHaveLength(2)
    expect(registry.tags.has(cacheTag(MAIN, 'npm-abc', VERSION))).toBe(true)
    expect(messages('warning')).toBe('')
  })

  it('an upload the registry does not take at the end: packed again, into a file, which goes up', async () => {
    registry.startStreamedUpload = async () => ({
      body: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
      finish: async () => {
        throw new Error('DIGEST_INVALID')
      },
      abort: async () => {},
    })
    const given = inputs({ incremental: false })
    await saveCache(given, stateFor(given))
    expect(messages('info')).toMatch(
      /did not take the cache layer of \S+ as streamed \(DIGEST_INVALID\): writing it again, into a file/,
    )
    expect(messages('info').match(/^Packed /gm)).toHaveLength(2)
    expect(registry.requests.filter((r) => r.startsWith('PUT blob'))).toHaveLength(2)
    expect(registry.tags.has(cacheTag(MAIN, 'npm-abc', VERSION))).toBe(true)
  })

  it('an exact hit, or a key another job saved meanwhile, is not saved again', async () => {
    const given = inputs()
    await saveCache(given, stateFor(given, { hit: true, matchedKey: 'npm-abc' }))
    expect(registry.requests).toEqual([])
    const other = buildCacheManifest({
      scope: MAIN,
      key: 'npm-abc',
      created: '2026-01-01T00:00:00Z',
      layers: [layer],
      version: VERSION,
    })
    await registry.putManifest(other.bytes, other.mediaType, cacheTag(MAIN, 'npm-abc', VERSION))
    registry.requests.length = 0
    await saveCache(given, stateFor(given))
    expect(registry.requests).toEqual([`HEAD manifest ${cacheTag(MAIN, 'npm-abc', VERSION)}`])
    expect(messages('info')).toMatch(/saved by another job meanwhile/)
  })

  it('with update on, an exact hit is saved again and the key moves to the new content', async () => {
    const first = await saved('npm-abc')
    const given = inputs()
    await saveCache(given, stateFor(given, { hit: true, matchedKey: 'npm-abc', update: true }))
    const moved = registry.tags.get(cacheTag(MAIN, 'npm-abc', VERSION))
    expect(moved).toBeDefined()
    expect(moved).not.toBe(first.digest)
  })

  it('a path that is not there is a warning, not a failed post step', async () => {
    const given = inputs({}, '/nonexistent/cache-dir')
    await saveCache(given, stateFor(given))
    expect(messages('warning')).toMatch(/Path\(s\) specified in the action for caching do\(es\) not exist/)
    expect(githubCache.saveCache).not.toHaveBeenCalled()
  })
})
