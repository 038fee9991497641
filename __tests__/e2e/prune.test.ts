import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { cacheTag, cacheVersion, indexTag } from '../../src/cache/cache-tag.js'
import { sha256Digest } from '../../src/oci/descriptor.js'
import { readManifest } from '../../src/oci/manifest.js'
import { MediaType } from '../../src/oci/media-types.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { startPackagesApi, startTestbed, type PackagesApi, type Testbed } from '../testbed/index.js'

const ORG_SECRET = 'octo-org-secret'
const DAY = 86_400

let bed: Testbed
let api: PackagesApi
let work: string
let eventPath: string
let counter = 0

beforeAll(async () => {
  bed = await startTestbed({
    allowDelete: true,
    users: { alice: 'alice-secret', bob: 'bob-secret', 'octo-org': ORG_SECRET },
  })
  api = await startPackagesApi({
    registryUrl: bed.url,
    realm: bed.realm,
    service: bed.service,
    storageDir: bed.storageDir,
    users: bed.users,
    owners: { alice: 'User', bob: 'User', 'octo-org': 'Organization' },
    tokens: {
      'alice-secret': { login: 'alice', admin: ['alice'] },
      'bob-secret': { login: 'bob', admin: ['bob'] },
      [ORG_SECRET]: { login: 'octo-org', admin: ['octo-org'] },
    },
  })
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-prune-'))
  eventPath = path.join(work, 'event.json')
  writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' } }))
})
afterAll(async () => {
  await api?.stop()
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** Where versions are listed and deleted: the registry's own API, or the Packages API stand-in. */
type Store = 'distribution' | 'packages-api'

interface Target {
  store: Store
  owner: string
  secret: string
  repository: string
  /** The registry path (`owner/name`) */
  name: string
}

function target(store: Store, name: string, owner = 'alice'): Target {
  const full = `${owner}/${name}-${++counter}`
  return {
    store,
    owner,
    secret: bed.users[owner] as string,
    repository: `${bed.registry}/${full}`,
    name: full,
  }
}

function envFor(t: Target, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { GITHUB_EVENT_PATH: eventPath, ...extra }
  if (t.store === 'packages-api') {
    env.OCI_ARTIFACT_ACTION_TEST_PACKAGES_API_REGISTRY = bed.registry
    env.GITHUB_API_URL = api.url
  }
  return env
}

function credentials(t: Target) {
  return { username: t.owner, token: t.secret }
}

/** Pushes a small tree under `tags`, created `daysAgo` (SOURCE_DATE_EPOCH: the manifest's created). */
async function push(t: Target, tags: string, daysAgo: number): Promise<string> {
  const dir = mkdtempSync(path.join(work, 'tree-'))
  writeFileSync(path.join(dir, 'marker'), `${tags} ${daysAgo}`)
  const epoch = String(Math.floor(Date.now() / 1000) - daysAgo * DAY)
  const result = await runAction({
    inputs: { path: dir, repository: t.repository, tag: tags, ...credentials(t) },
    env: { SOURCE_DATE_EPOCH: epoch },
  })
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return result.outputs.digest as string
}

function prune(t: Target, inputs: Record<string, string>, o: { token?: string; username?: string } = {}) {
  return runAction({
    inputs: { mode: 'prune', repository: t.repository, ...credentials(t), ...o, ...inputs },
    env: envFor(t),
  })
}

function registryOf(t: Target): Repository {
  return new Repository({
    registry: bed.registry,
    repository: t.name,
    credentials: { username: t.owner, password: t.secret },
    actions: ['pull', 'push'],
  })
}

async function tagsOf(t: Target): Promise<string[]> {
  return (await registryOf(t).listTags()).sort()
}

function deletedTags(result: RunActionResult): string[] {
  const deleted = JSON.parse(result.outputs.deleted ?? '[]') as { tags: string[] }[]
  return deleted.flatMap((d) => d.tags).sort()
}

function expectSucceeded(result: RunActionResult): void {
  if (result.code !== 0) throw new Error(`prune failed:\n${result.stdout}\n${result.stderr}`)
  expect(result.code).toBe(0)
}

describe.each<Store>(['distribution', 'packages-api'])('prune through %s', (store) => {
  test('a dry run lists what would go; the prune keeps the newest N and the release tag on pruned content', async () => {
    const t = target(store, 'app')
    await push(t, 'run-1', 50)
    const release = await push(t, 'run-2,v1.2.0', 40)
    await push(t, 'run-3', 30)
    await push(t, 'run-4', 20)
    await push(t, 'run-5', 10)
    const before = await tagsOf(t)

    const dry = await prune(t, { 'tag-pattern': 'run-*', keep: '2', 'dry-run': 'true' })
    expectSucceeded(dry)
    expect(deletedTags(dry)).toEqual(['run-1', 'run-3'])
    expect(dry.outputs['deleted-count']).toBe('2')
    expect(Number(dry.outputs['freed-bytes'])).toBeGreaterThan(0)
    expect(dry.summary).toContain('dry run: nothing deleted')
    expect(dry.summary).toContain('tag v1.2.0 is outside tag-pattern')
    expect(await tagsOf(t)).toEqual(before)

    const real = await prune(t, { 'tag-pattern': 'run-*', keep: '2' })
    expectSucceeded(real)
    expect(deletedTags(real)).toEqual(['run-1', 'run-3'])
    expect(real.outputs['freed-bytes']).toBe(dry.outputs['freed-bytes'])
    expect(await tagsOf(t)).toEqual(['run-2', 'run-4', 'run-5', 'v1.2.0'])
    expect((await registryOf(t).headManifest('v1.2.0'))?.digest).toBe(release)

    const pulled = path.join(work, `pulled-${counter}`)
    const pull = await runAction({
      inputs: { mode: 'pull', repository: t.repository, tag: 'v1.2.0', path: pulled, ...credentials(t) },
    })
    expect(pull.code).toBe(0)
    expect(readFileSync(path.join(pulled, 'marker'), 'utf8')).toBe('run-2,v1.2.0 40')

    if (store === 'packages-api') {
      const deletes = api.requests.filter(
        (r) => r.method === 'DELETE' && r.rawPath.includes(t.name.split('/')[1] as string),
      )
      expect(deletes.map((r) => r.status)).toEqual([204, 204])
    }
  })

  test('a cache repository pruned per scope: a pruned key misses, restore-keys restore the newest kept', async () => {
    // an organization's package under a nested name: the Packages API needs it as `name%2Fcache`
    const t = target(store, 'cache-app', 'octo-org')
    t.repository += '/cache'
    t.name += '/cache'
    for (const n of [1, 2, 3, 4]) await cacheJob(t, `deps-${n}`, 'refs/heads/main')
    await cacheJob(t, 'deps-feature', 'refs/heads/feature')

    const mainIndex = indexTag('refs/heads/main')
    const indexBefore = (await registryOf(t).headManifest(mainIndex))?.digest as string
    const result = await prune(t, { keep: '2' })
    expectSucceeded(result)
    // the scope index was rewritten under its tag, and the version it replaced deleted
    const indexAfter = (await registryOf(t).headManifest(mainIndex))?.digest
    expect(indexAfter).toBeDefined()
    expect(indexAfter).not.toBe(indexBefore)
    expect(await registryOf(t).headManifest(indexBefore)).toBeUndefined()
    const deleted = JSON.parse(result.outputs.deleted as string) as { key?: string; scope?: string }[]
    expect(
      deleted
        .filter((d) => d.key)
        .map((d) => d.key)
        .sort(),
    ).toEqual(['deps-1', 'deps-2'])
    expect(result.summary).toContain('refs/heads/main')

    const missed = await cacheRestore(t, 'deps-1', [])
    expect(missed.outputs['cache-hit']).toBe('false')
    expect(missed.outputs['cache-matched-key']).toBe('')

    const newest = await cacheRestore(t, 'deps-1', ['deps-'])
    expect(newest.outputs['cache-matched-key']).toBe('deps-4')
    expect(newest.annotations.filter((a) => a.level === 'warning')).toEqual([])

    // the index no longer lists deps-1: a restore key only it matched is a clean miss, not a failed fetch
    const onlyPruned = await cacheRestore(t, 'other', ['deps-1'])
    expect(onlyPruned.outputs['cache-matched-key']).toBe('')
    expect(onlyPruned.annotations.filter((a) => a.level === 'warning')).toEqual([])

    const kept = await cacheRestore(t, 'deps-3', [])
    expect(kept.outputs['cache-hit']).toBe('true')
    const feature = await cacheRestore(t, 'deps-feature', [], 'refs/heads/feature')
    expect(feature.outputs['cache-hit']).toBe('true')

    if (store === 'packages-api') {
      expect(
        api.requests.some((r) => r.rawPath.startsWith('/orgs/octo-org/packages/container/cache-app-')),
      ).toBe(true)
      expect(api.requests.some((r) => /cache-app-\d+%2Fcache\/versions/.test(r.rawPath))).toBe(true)
    }
  })
})

describe.each<Store>(['distribution', 'packages-api'])('prune through %s: chunked caches', (store) => {
  test('caches sharing chunks: a prune deletes manifests only, and the kept caches restore whole', async () => {
    const t = target(store, 'cache-chunks')
    t.repository += '/cache'
    t.name += '/cache'
    // each save restores the one before (restore-keys) and changes one small file: the large one's
    // chunks are saved once and referenced by all four caches
    const shared = randomBytes(6 << 20)
    for (const n of [1, 2, 3, 4]) {
      await cacheJob(
        t,
        `deps-${n}`,
        'refs/heads/main',
        (dir) => writeFileSync(path.join(dir, 'big.bin'), shared),
        ['deps-'],
        { 'cache-incremental': 'true' },
      )
    }
    const repo = registryOf(t)
    const chunksOf = async (key: string) => {
      const tag = cacheTag('refs/heads/main', key, cacheVersion(['deps'], false))
      const manifest = readManifest((await repo.getManifest(tag)).bytes)
      return [manifest.config as { digest: string }, ...manifest.layers].map((d) => d.digest)
    }
    const firstBlobs = await chunksOf('deps-1')
    const keptBlobs = [...(await chunksOf('deps-3')), ...(await chunksOf('deps-4'))]
    // the large file's chunks are shared by the first cache and the kept ones
    expect(firstBlobs.filter((d) => keptBlobs.includes(d)).length).toBeGreaterThan(1)

    const result = await prune(t, { keep: '2' })
    expectSucceeded(result)
    const deleted = JSON.parse(result.outputs.deleted as string) as { key?: string }[]
    expect(deleted.flatMap((d) => (d.key ? [d.key] : [])).sort()).toEqual(['deps-1', 'deps-2'])
    // versions (manifests) went; every blob a kept cache lists is still there
    for (const digest of keptBlobs) expect([digest, await repo.blobExists(digest)]).toEqual([digest, true])
    for (const key of ['deps-3', 'deps-4']) {
      const restored = await cacheRestore(t, key, [])
      expect(restored.outputs['cache-hit']).toBe('true')
      expect(restored.annotations.filter((a) => a.level === 'warning')).toEqual([])
    }
  })
})

describe.each<Store>(['distribution', 'packages-api'])('prune through %s: indexes', (store) => {
  test('a kept index keeps the manifest it lists; a deleted index takes its untagged platform manifest', async () => {
    const t = target(store, 'multi')
    const run1 = await push(t, 'run-1', 30)
    const repo = registryOf(t)
    const listed = await repo.getManifest(run1)
    await putIndex(repo, 'v3', [listed])
    // a platform manifest named by digest only, listed by the index run-9
    const platformBytes = Buffer.from(
      JSON.stringify({ ...JSON.parse(listed.bytes.toString('utf8')), annotations: { platform: 'arm64' } }),
    )
    const platform = await repo.putManifest(platformBytes, MediaType.OciManifest, sha256Digest(platformBytes))
    await putIndex(repo, 'run-9', [
      { bytes: platformBytes, mediaType: MediaType.OciManifest, digest: platform },
    ])

    const result = await prune(t, { 'tag-pattern': 'run-*', keep: '0' })
    expectSucceeded(result)
    const deleted = JSON.parse(result.outputs.deleted as string) as { digest: string; tags: string[] }[]
    expect(deleted).toHaveLength(2)
    expect(deletedTags(result)).toEqual(['run-9'])
    expect(deleted.map((d) => d.digest)).toContain(platform)
    expect(result.summary).toContain('listed by the kept index v3')
    expect(await tagsOf(t)).toEqual(['run-1', 'v3'])
    expect(await repo.headManifest(platform)).toBeUndefined()
    expect((await repo.headManifest('run-1'))?.digest).toBe(run1)
  })
})

async function putIndex(
  repo: Repository,
  tag: string,
  manifests: { bytes: Buffer; mediaType: string; digest: string }[],
) {
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: manifests.map((m) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.bytes.length,
      platform: { architecture: 'arm64', os: 'linux' },
    })),
  }
  const bytes = Buffer.from(JSON.stringify(index))
  return repo.putManifest(bytes, MediaType.OciIndex, tag)
}

/** bob may read alice's public package but not delete from it: the step's error message. */
async function failedPruneByBob(t: Target): Promise<string> {
  bed.setPublic(t.name)
  const result = await prune(
    t,
    { 'tag-pattern': 'run-*', keep: '0' },
    { username: 'bob', token: bed.users.bob as string },
  )
  expect(result.code).toBe(1)
  return result.annotations.find((a) => a.level === 'error')?.message ?? ''
}

describe('prune through the distribution API', () => {
  test('older-than: what was created before goes, by the manifest created annotation', async () => {
    const t = target('distribution', 'aged')
    await push(t, 'run-old', 40)
    await push(t, 'run-new', 5)
    const result = await prune(t, { 'tag-pattern': 'run-*', 'older-than': '30d' })
    expectSucceeded(result)
    expect(deletedTags(result)).toEqual(['run-old'])
    expect(await tagsOf(t)).toEqual(['run-new'])
  })

  test('credentials that may not delete fail the step, saying so, and delete nothing', async () => {
    const t = target('distribution', 'not-bobs')
    await push(t, 'run-1', 40)
    await push(t, 'run-2', 30)
    expect(await failedPruneByBob(t)).toMatch(/DELETE .*may delete from this repository/)
    expect(await tagsOf(t)).toEqual(['run-1', 'run-2'])
  })
})

describe('prune through the Packages API', () => {
  test('a token that may not delete: the error says packages: write and the Admin role', async () => {
    const t = target('packages-api', 'not-bobs')
    await push(t, 'run-1', 40)
    const error = await failedPruneByBob(t)
    expect(error).toContain('403')
    expect(error).toContain('permissions: packages: write')
    expect(error).toContain('Role: Admin')
    expect(error).not.toContain(bed.users.bob)
    expect(await tagsOf(t)).toEqual(['run-1'])
  })

  test('a public version downloaded over 5,000 times is reported and skipped; the rest go', async () => {
    const t = target('packages-api', 'popular')
    const popular = await push(t, 'run-1', 40)
    await push(t, 'run-2', 30)
    await push(t, 'run-3', 20)
    api.setDownloads(t.name, popular, 12_000)
    const result = await prune(t, { 'tag-pattern': 'run-*', keep: '1' })
    expectSucceeded(result)
    expect(deletedTags(result)).toEqual(['run-2'])
    const warning = result.annotations.find((a) => a.level === 'warning')?.message ?? ''
    expect(warning).toContain('run-1')
    expect(warning).toContain('more than 5000 downloads')
    expect(result.summary).toContain('Refused (kept)')
    expect(await tagsOf(t)).toEqual(['run-1', 'run-3'])
  })

  test('rate limits are waited out (x-ratelimit-reset, then Retry-After) and the prune goes on', async () => {
    const t = target('packages-api', 'limited')
    await push(t, 'run-1', 40)
    await push(t, 'run-2', 30)
    const seen = api.requests.length
    api.rateLimitNext('primary')
    api.rateLimitNext('secondary')
    const result = await prune(t, { 'tag-pattern': 'run-*', keep: '1' })
    expectSucceeded(result)
    expect(deletedTags(result)).toEqual(['run-1'])
    expect(api.requests.slice(seen, seen + 3).map((r) => r.status)).toEqual([403, 403, 200])
  })

  test('versions are read page by page', async () => {
    const t = target('packages-api', 'paged')
    for (let i = 1; i <= 3; i++) await push(t, `run-${i}`, 40 - i)
    const seen = api.requests.length
    api.setMaxPerPage(2)
    const result = await prune(t, { 'tag-pattern': 'run-*', keep: '1' }).finally(() => api.setMaxPerPage(100))
    expectSucceeded(result)
    expect(deletedTags(result)).toEqual(['run-1', 'run-2'])
    expect(
      api.requests.slice(seen).filter((r) => r.method === 'GET' && r.rawPath.endsWith('/versions')).length,
    ).toBe(2)
  })
})

async function cacheJob(
  t: Target,
  key: string,
  ref: string,
  build: (dir: string) => void = () => {},
  restoreKeys: string[] = [],
  more: Record<string, string> = {},
): Promise<void> {
  // each job in a workspace of its own, naming the path relative to it: the path lines are part of
  // what a cache key means, as in actions/cache
  const workspace = mkdtempSync(path.join(work, 'cache-'))
  const dir = path.join(workspace, 'deps')
  const inputs = {
    mode: 'cache',
    path: 'deps',
    key,
    'restore-keys': restoreKeys.join('\n'),
    repository: t.repository,
    ...credentials(t),
    ...more,
  }
  const env = { GITHUB_REF: ref, GITHUB_EVENT_PATH: eventPath }
  const main = await runAction({ inputs, env, workspace })
  expect(main.code).toBe(0)
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'lock'), key)
  build(dir)
  const post = await runAction({ inputs, env, workspace, post: true, state: main.state })
  expect(post.code).toBe(0)
}

async function cacheRestore(t: Target, key: string, restoreKeys: string[], ref = 'refs/heads/main') {
  const workspace = mkdtempSync(path.join(work, 'restore-'))
  const dir = path.join(workspace, 'deps')
  const result = await runAction({
    workspace,
    inputs: {
      mode: 'cache',
      path: 'deps',
      key,
      'restore-keys': restoreKeys.join('\n'),
      repository: t.repository,
      ...credentials(t),
    },
    env: { GITHUB_REF: ref, GITHUB_EVENT_PATH: eventPath },
  })
  expect(result.code).toBe(0)
  if (result.outputs['cache-matched-key']) {
    expect(readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(result.outputs['cache-matched-key'])
  }
  return result
}
