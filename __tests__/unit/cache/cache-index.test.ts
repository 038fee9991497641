import { describe, expect, it } from '@jest/globals'
import {
  buildCacheIndex,
  CacheIndexError,
  findNewestMatch,
  mergeEntries,
  parseCacheIndex,
  type CacheEntry,
} from '../../../src/cache/cache-index.js'
import { MediaType } from '../../../src/oci/media-types.js'

function entry(key: string, created: string, n = 1): CacheEntry {
  return {
    key,
    created,
    manifest: {
      mediaType: MediaType.OciManifest,
      digest: `sha256:${String(n).padStart(64, '0')}`,
      size: 100 + n,
    },
  }
}

describe('cache index', () => {
  it('round-trips through its bytes, oldest first, as an OCI image index', () => {
    const entries = [entry('b', '2026-01-02T00:00:00.000Z', 2), entry('a', '2026-01-01T00:00:00.000Z', 1)]
    const built = buildCacheIndex('refs/heads/main', entries)
    const json = JSON.parse(built.bytes.toString('utf8'))
    expect(json.mediaType).toBe(MediaType.OciIndex)
    expect(built.mediaType).toBe(MediaType.OciIndex)
    expect(parseCacheIndex(built.bytes).map((e) => e.key)).toEqual(['a', 'b'])
  })

  it('leaves out entries that carry no key, and refuses what is not an index', () => {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: MediaType.OciManifest, digest: `sha256:${'1'.repeat(64)}`, size: 1 },
          ...JSON.parse(buildCacheIndex('s', [entry('kept', '2026-01-01T00:00:00Z')]).bytes.toString())
            .manifests,
        ],
      }),
    )
    expect(parseCacheIndex(bytes).map((e) => e.key)).toEqual(['kept'])
    expect(() => parseCacheIndex(Buffer.from('{'))).toThrow(CacheIndexError)
    expect(() => parseCacheIndex(Buffer.from('{}'))).toThrow(CacheIndexError)
  })

  it('merging keeps one entry per key, the newest save of it', () => {
    const old = entry('k', '2026-01-01T00:00:00.000Z', 1)
    const renewed = entry('k', '2026-01-03T00:00:00.000Z', 3)
    const other = entry('j', '2026-01-02T00:00:00.000Z', 2)
    expect(mergeEntries([[renewed, other], [old]])).toEqual([other, renewed])
    expect(mergeEntries([[old], [other, renewed]])).toEqual([other, renewed])
  })

  it('merging two writers’ lists keeps both writers’ entries', () => {
    const base = [entry('a', '2026-01-01T00:00:00.000Z', 1)]
    const mine = [...base, entry('mine', '2026-01-02T00:00:01.000Z', 2)]
    const theirs = [...base, entry('theirs', '2026-01-02T00:00:00.000Z', 3)]
    expect(mergeEntries([theirs, mine]).map((e) => e.key)).toEqual(['a', 'theirs', 'mine'])
  })

  it('is capped by dropping the oldest entries', () => {
    const entries = Array.from({ length: 10 }, (_, i) =>
      entry(`k${i}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), i),
    )
    expect(mergeEntries([entries.slice().reverse()], 3).map((e) => e.key)).toEqual(['k7', 'k8', 'k9'])
  })
})

describe('findNewestMatch', () => {
  const entries = [
    entry('npm-linux-aaa', '2026-01-01T00:00:00.000Z', 1),
    entry('npm-linux-ccc', '2026-01-03T00:00:00.000Z', 3),
    entry('npm-linux-bbb', '2026-01-02T00:00:00.000Z', 2),
    entry('npm-macos-zzz', '2026-01-09T00:00:00.000Z', 9),
  ]

  it('picks the newest of the keys the prefix matches, not the last listed or the longest', () => {
    expect(findNewestMatch(entries, ['npm-linux-'])?.key).toBe('npm-linux-ccc')
  })

  it('tries prefixes in order: a matching earlier prefix beats a newer match of a later one', () => {
    expect(findNewestMatch(entries, ['npm-linux-', 'npm-'])?.key).toBe('npm-linux-ccc')
    expect(findNewestMatch(entries, ['yarn-', 'npm-'])?.key).toBe('npm-macos-zzz')
  })

  it('on equal times, the entry saved later (listed later) wins', () => {
    const same = '2026-01-05T00:00:00.000Z'
    expect(findNewestMatch([entry('p-1', same, 1), entry('p-2', same, 2)], ['p-'])?.key).toBe('p-2')
  })

  it('is case-sensitive and finds nothing when no prefix matches', () => {
    expect(findNewestMatch(entries, ['NPM-'])).toBeUndefined()
    expect(findNewestMatch([], ['npm-'])).toBeUndefined()
  })
})
