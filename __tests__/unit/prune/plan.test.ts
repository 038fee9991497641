import { describe, expect, test } from '@jest/globals'
import {
  CACHE_ARTIFACT_TYPE,
  CACHE_INDEX_ARTIFACT_TYPE,
  CREATED_ANNOTATION,
  KEY_ANNOTATION,
  SCOPE_ANNOTATION,
} from '../../../src/cache/cache-annotations.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { planPrune, type PrunePolicy } from '../../../src/prune/plan.js'
import type { InventoryVersion } from '../../../src/prune/inventory.js'

const DAY = 86_400_000
const NOW = Date.parse('2026-06-01T00:00:00Z')
let n = 0

function version(
  tags: string[],
  daysAgo: number | undefined,
  o: Partial<InventoryVersion> = {},
): InventoryVersion {
  const digest = `sha256:${(++n).toString(16).padStart(64, '0')}`
  return {
    id: digest,
    digest,
    tags,
    ...(daysAgo === undefined ? {} : { created: new Date(NOW - daysAgo * DAY) }),
    mediaType: MediaType.OciManifest,
    size: 500,
    children: [],
    blobs: [
      {
        mediaType: MediaType.LayerTarGzip,
        digest: `sha256:${'b'.repeat(60)}${n.toString().padStart(4, '0')}`,
        size: 1000,
      },
    ],
    annotations: {},
    ...o,
  }
}

function cache(scope: string, key: string, daysAgo: number, tagged = true): InventoryVersion {
  return version(tagged ? [`c-${key}`] : [], undefined, {
    artifactType: CACHE_ARTIFACT_TYPE,
    annotations: {
      [KEY_ANNOTATION]: key,
      [SCOPE_ANNOTATION]: scope,
      [CREATED_ANNOTATION]: new Date(NOW - daysAgo * DAY).toISOString(),
    },
  })
}

function scopeIndex(scope: string, entries: InventoryVersion[]): InventoryVersion {
  return version([`i-${scope.replace(/\W/g, '_')}`], 0, {
    mediaType: MediaType.OciIndex,
    artifactType: CACHE_INDEX_ARTIFACT_TYPE,
    children: entries.map((e) => e.digest),
    blobs: [],
    annotations: { [SCOPE_ANNOTATION]: scope },
  })
}

function policy(o: Partial<PrunePolicy>): PrunePolicy {
  return { tagPatterns: [], now: NOW, ...o }
}

function deletedTags(versions: InventoryVersion[], p: PrunePolicy): string[] {
  return planPrune(versions, p)
    .delete.map((v) => v.version.tags.join('+') || v.version.digest)
    .sort()
}

describe('planPrune: tagged versions', () => {
  test('keep: the newest N matches stay, the rest go', () => {
    const versions = [version(['run-1'], 5), version(['run-2'], 4), version(['run-3'], 3), version(['v1'], 9)]
    expect(deletedTags(versions, policy({ tagPatterns: ['run-*'], keep: 1 }))).toEqual(['run-1', 'run-2'])
  })

  test('older-than: only what is older goes; a version with no time stays', () => {
    const versions = [version(['run-1'], 40), version(['run-2'], 10), version(['run-3'], undefined)]
    const plan = planPrune(versions, policy({ tagPatterns: ['run-*'], olderThanMs: 30 * DAY }))
    expect(plan.delete.map((v) => v.version.tags[0])).toEqual(['run-1'])
    expect(plan.keep.find((v) => v.version.tags[0] === 'run-3')?.reason).toBe(
      'no creation time to compare with older-than',
    )
  })

  test('keep and older-than together: both must allow it', () => {
    const versions = [
      version(['run-1'], 40),
      version(['run-2'], 35),
      version(['run-3'], 10),
      version(['run-4'], 5),
    ]
    const p = policy({ tagPatterns: ['run-*'], keep: 1, olderThanMs: 30 * DAY })
    expect(deletedTags(versions, p)).toEqual(['run-1', 'run-2'])
  })

  test('a version goes only when every tag matches: a release tag keeps it', () => {
    const versions = [version(['run-1', 'v1.0.0'], 50), version(['run-2'], 40), version(['run-3'], 1)]
    const plan = planPrune(versions, policy({ tagPatterns: ['run-*'], keep: 0 }))
    expect(plan.delete.map((v) => v.version.tags[0]).sort()).toEqual(['run-2', 'run-3'])
    expect(plan.keep[0]?.reason).toBe('tag v1.0.0 is outside tag-pattern')
  })

  test('several patterns; untagged versions are left alone; no pattern touches no tag', () => {
    const versions = [version(['run-1'], 50), version(['pr-7-a'], 50), version([], 50), version(['main'], 50)]
    expect(deletedTags(versions, policy({ tagPatterns: ['run-*', 'pr-?-*'], keep: 0 }))).toEqual([
      'pr-7-a',
      'run-1',
    ])
    expect(deletedTags(versions, policy({ keep: 0 }))).toEqual([])
  })
})

describe('planPrune: indexes', () => {
  test('a kept index keeps the platform manifests it lists, even ones whose tags match', () => {
    const amd = version(['run-1-amd64'], 50)
    const arm = version([], 50)
    const release = version(['v2'], 50, {
      mediaType: MediaType.OciIndex,
      children: [amd.digest, arm.digest],
      blobs: [],
    })
    const plan = planPrune([amd, arm, release], policy({ tagPatterns: ['run-*'], keep: 0 }))
    expect(plan.delete).toEqual([])
    expect(plan.keep.find((v) => v.version === amd)?.reason).toBe('listed by the kept index v2')
  })

  test('a deleted index takes its untagged platform manifests, not one another kept index lists', () => {
    const own = version([], 50)
    const shared = version([], 50)
    const old = version(['run-1'], 50, {
      mediaType: MediaType.OciIndex,
      children: [own.digest, shared.digest],
      blobs: [],
    })
    const kept = version(['v1'], 50, { mediaType: MediaType.OciIndex, children: [shared.digest], blobs: [] })
    const plan = planPrune([own, shared, old, kept], policy({ tagPatterns: ['run-*'], keep: 0 }))
    expect(plan.delete.map((v) => v.version.digest).sort()).toEqual([own.digest, old.digest].sort())
  })

  test('an index kept by keep protects its children through nesting', () => {
    const leaf = version(['run-0-leaf'], 60)
    const inner = version(['run-1-inner'], 60, {
      mediaType: MediaType.OciIndex,
      children: [leaf.digest],
      blobs: [],
    })
    const outer = version(['run-2'], 1, {
      mediaType: MediaType.OciIndex,
      children: [inner.digest],
      blobs: [],
    })
    expect(deletedTags([leaf, inner, outer], policy({ tagPatterns: ['run-*'], keep: 1 }))).toEqual([])
  })
})

describe('planPrune: caches', () => {
  test('keep per scope by save time; the scope index is rewritten without the pruned', () => {
    const main = [
      cache('refs/heads/main', 'a', 3),
      cache('refs/heads/main', 'b', 2),
      cache('refs/heads/main', 'c', 1),
    ]
    const feature = [cache('refs/heads/feature', 'f', 9)]
    const index = scopeIndex('refs/heads/main', main)
    const plan = planPrune(
      [...main, ...feature, index, scopeIndex('refs/heads/feature', feature)],
      policy({ keep: 2 }),
    )
    expect(plan.delete.map((v) => v.cache?.key)).toEqual(['a'])
    expect(plan.rewrites).toHaveLength(1)
    expect(plan.rewrites[0]?.index).toBe(index)
    expect([...(plan.rewrites[0]?.keepDigests ?? [])].sort()).toEqual(
      [main[1]?.digest, main[2]?.digest].sort(),
    )
  })

  test('older-than for caches; a scope with nothing left loses its index', () => {
    const old = [cache('s', 'a', 40), cache('s', 'b', 35)]
    const index = scopeIndex('s', old)
    const plan = planPrune([...old, index], policy({ olderThanMs: 30 * DAY }))
    expect(plan.delete.map((v) => v.version.digest).sort()).toEqual(
      [old[0]?.digest, old[1]?.digest, index.digest].sort(),
    )
    expect(plan.rewrites[0]?.keepDigests.size).toBe(0)
  })

  test('superseded saves and superseded indexes (no tag) go whatever keep says', () => {
    const superseded = cache('s', 'a', 1, false)
    const current = cache('s', 'a', 0)
    const oldIndex = { ...scopeIndex('s', [superseded]), tags: [] }
    const plan = planPrune([superseded, current, oldIndex, scopeIndex('s', [current])], policy({ keep: 10 }))
    expect(plan.delete.map((v) => v.version.digest).sort()).toEqual(
      [superseded.digest, oldIndex.digest].sort(),
    )
    expect(plan.rewrites).toEqual([])
  })

  test('tag-pattern does not select caches: their tags are hashes', () => {
    const caches = [cache('s', 'a', 5), cache('s', 'b', 4)]
    expect(
      planPrune(caches, policy({ tagPatterns: ['nothing-*'], keep: 1 })).delete.map((v) => v.cache?.key),
    ).toEqual(['a'])
  })
})
