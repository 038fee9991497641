import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseManifest } from '../../src/oci/manifest.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

// One pull, several artifacts: every platform of an index (`platform: all`), and every tag a glob
// matches (`tag: reports-*`, with or without `merge-multiple`), as download-artifact's `pattern`.

let bed: Testbed
let work: string
let counter = 0

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-pull-many-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

const auth = () => ({ username: 'alice', token: bed.users.alice as string })
const env = { SOURCE_DATE_EPOCH: '1700000000' }

function freshRepository(name: string): string {
  return `${bed.registry}/alice/${name}-${++counter}`
}

/** A folder with the given files (name -> content). */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(work, 'src-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), content)
  }
  return dir
}

async function push(repository: string, tag: string, files: Record<string, string>, extra = {}) {
  const result = await runAction({ inputs: { path: tree(files), repository, tag, ...auth(), ...extra }, env })
  expect(result.code).toBe(0)
  return result
}

function pull(repository: string, dest: string, inputs: Record<string, string>): Promise<RunActionResult> {
  return runAction({ inputs: { mode: 'pull', repository, path: dest, ...auth(), ...inputs } })
}

function freshDest(): string {
  return path.join(mkdtempSync(path.join(work, 'dest-')), 'out')
}

function repoOf(repository: string): Repository {
  return new Repository({
    registry: bed.registry,
    repository: repository.slice(bed.registry.length + 1),
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull', 'push'],
  })
}

/** Overwrites the stored bytes of a tag's (first) layer, same length: its download fails its digest. */
async function corruptLayerOf(repository: string, reference: string): Promise<void> {
  const got = await repoOf(repository).getManifest(reference)
  const layer = parseManifest(got.bytes).layers[0]
  if (!layer) throw new Error(`${reference} has no layer`)
  const file = bed.blobPath(layer.digest)
  writeFileSync(file, Buffer.alloc(readFileSync(file).length, 0x41))
}

interface Pulled {
  tag: string
  digest: string
  platform?: string
  path: string
}

const pulledOf = (result: RunActionResult): Pulled[] =>
  JSON.parse(result.outputs.pulled ?? 'null') as Pulled[]

describe('platform: all', () => {
  const PLATFORMS = ['linux/amd64', 'linux/arm/v7', 'darwin/arm64']

  async function release(repository: string): Promise<void> {
    for (const platform of PLATFORMS) {
      await push(repository, 'v1', { [`bin/tool`]: `tool for ${platform}\n` }, { platform })
    }
  }

  test('every manifest of the index lands in a folder named os-arch[-variant], listed in `pulled`', async () => {
    const repository = freshRepository('release')
    await release(repository)
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'v1', platform: 'all' })
    expect(result.code).toBe(0)
    expect(readdirSync(dest).sort()).toEqual(['darwin-arm64', 'linux-amd64', 'linux-arm-v7'])
    for (const platform of PLATFORMS) {
      const folder = path.join(dest, platform.replaceAll('/', '-'))
      expect(readFileSync(path.join(folder, 'bin', 'tool'), 'utf8')).toBe(`tool for ${platform}\n`)
    }
    const index = await repoOf(repository).getManifest('v1')
    expect(result.outputs.digest).toBe(index.digest)
    expect(result.outputs.path).toBe(dest)
    const pulled = pulledOf(result)
    expect(pulled.map((p) => [p.tag, p.platform, p.path])).toEqual([
      ['v1', 'darwin/arm64', path.join(dest, 'darwin-arm64')],
      ['v1', 'linux/amd64', path.join(dest, 'linux-amd64')],
      ['v1', 'linux/arm/v7', path.join(dest, 'linux-arm-v7')],
    ])
    const entries = (JSON.parse(index.bytes.toString('utf8')) as { manifests: { digest: string }[] })
      .manifests
    expect(pulled.map((p) => p.digest).sort()).toEqual(entries.map((e) => e.digest).sort())
    expect(result.summary).toMatch(/## Pulled 3 artifacts[\s\S]*`linux\/arm\/v7`[\s\S]*linux-arm-v7/)
  })

  test('atomic as a whole: one platform failing its digest leaves path as it was', async () => {
    const repository = freshRepository('broken-release')
    await release(repository)
    await corruptLayerOf(repository, 'v1-linux-arm-v7')
    const dest = freshDest()
    mkdirSync(dest)
    writeFileSync(path.join(dest, 'before.txt'), 'untouched')
    const result = await pull(repository, dest, { tag: 'v1', platform: 'all' })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/::error::.*(digest|sha256)/i)
    expect(readdirSync(dest)).toEqual(['before.txt'])
    // no staging folder left next to it either
    expect(readdirSync(path.dirname(dest))).toEqual(['out'])
  })

  test('a tag that is not an index is refused, naming it', async () => {
    const repository = freshRepository('plain')
    await push(repository, 'v1', { 'a.txt': 'a' })
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'v1', platform: 'all' })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/::error::.*v1 is not an image index/)
    expect(existsSync(dest)).toBe(false)
  })
})

describe('tag globs', () => {
  test('each match lands in a folder named after its tag; other tags are left alone', async () => {
    const repository = freshRepository('shards')
    for (const shard of ['1', '2', '10']) {
      await push(repository, `reports-${shard}`, { [`shard-${shard}.xml`]: `<testsuite id="${shard}"/>` })
    }
    await push(repository, 'other-1', { 'other.txt': 'other' })
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'reports-*' })
    expect(result.code).toBe(0)
    expect(readdirSync(dest).sort()).toEqual(['reports-1', 'reports-10', 'reports-2'])
    expect(readFileSync(path.join(dest, 'reports-10', 'shard-10.xml'), 'utf8')).toBe('<testsuite id="10"/>')
    expect(pulledOf(result).map((p) => [p.tag, p.path])).toEqual([
      ['reports-1', path.join(dest, 'reports-1')],
      ['reports-10', path.join(dest, 'reports-10')],
      ['reports-2', path.join(dest, 'reports-2')],
    ])
    // several artifacts: no one digest to name
    expect(result.outputs.digest).toBeUndefined()
    expect(result.stdout).toContain("'reports-*' matches 3 tags: reports-1, reports-10, reports-2")
  })

  test('merge-multiple: all into path, the later tag in sorted order wins a file two hold, and the log says so', async () => {
    const repository = freshRepository('merged')
    await push(repository, 'pkg-a', { 'a.txt': 'a', VERSION: 'from a', 'lib/shared.txt': 'a' })
    await push(repository, 'pkg-b', { 'b.txt': 'b', VERSION: 'from b', 'lib/shared.txt': 'b' })
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'pkg-*', 'merge-multiple': 'true' })
    expect(result.code).toBe(0)
    expect(readdirSync(dest).sort()).toEqual(['VERSION', 'a.txt', 'b.txt', 'lib'])
    expect(readFileSync(path.join(dest, 'VERSION'), 'utf8')).toBe('from b')
    expect(readFileSync(path.join(dest, 'lib', 'shared.txt'), 'utf8')).toBe('b')
    expect(result.stdout).toContain('VERSION: in pkg-a and pkg-b; pkg-b wins')
    expect(result.stdout).toContain(`${path.join('lib', 'shared.txt')}: in pkg-a and pkg-b; pkg-b wins`)
    expect(pulledOf(result).map((p) => [p.tag, p.path])).toEqual([
      ['pkg-a', dest],
      ['pkg-b', dest],
    ])
  })

  test('with platform: all, each tag gets a folder per platform', async () => {
    const repository = freshRepository('matrix')
    for (const tag of ['cli-1', 'cli-2']) {
      for (const platform of ['linux/amd64', 'darwin/arm64']) {
        await push(repository, tag, { tool: `${tag} ${platform}` }, { platform })
      }
    }
    const dest = freshDest()
    // `cli-?` leaves out the platform tags (cli-1-linux-amd64, ...) that a platform push also sets
    const result = await pull(repository, dest, { tag: 'cli-?', platform: 'all' })
    expect(result.code).toBe(0)
    expect(readFileSync(path.join(dest, 'cli-2', 'darwin-arm64', 'tool'), 'utf8')).toBe('cli-2 darwin/arm64')
    expect(pulledOf(result).map((p) => path.relative(dest, p.path))).toEqual([
      path.join('cli-1', 'darwin-arm64'),
      path.join('cli-1', 'linux-amd64'),
      path.join('cli-2', 'darwin-arm64'),
      path.join('cli-2', 'linux-amd64'),
    ])
  })

  test('atomic as a whole: one match failing its digest leaves path as it was', async () => {
    const repository = freshRepository('broken-shards')
    for (const shard of ['1', '2', '3']) await push(repository, `part-${shard}`, { [`${shard}.txt`]: shard })
    await corruptLayerOf(repository, 'part-2')
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'part-*' })
    expect(result.code).not.toBe(0)
    expect(existsSync(dest)).toBe(false)
    expect(readdirSync(path.dirname(dest))).toEqual([])
  })

  test('zero matches follow if-no-files-found: warn (default), error, ignore', async () => {
    const repository = freshRepository('empty')
    await push(repository, 'v1', { 'a.txt': 'a' })
    const dest = freshDest()
    const warned = await pull(repository, dest, { tag: 'nightly-*' })
    expect(warned.code).toBe(0)
    expect(warned.annotations).toContainEqual({
      level: 'warning',
      message: `No tag of ${repository} matches 'nightly-*'. Nothing was pulled.`,
    })
    expect(existsSync(dest)).toBe(false)
    expect(pulledOf(warned)).toEqual([])

    const failed = await pull(repository, dest, { tag: 'nightly-*', 'if-no-files-found': 'error' })
    expect(failed.code).not.toBe(0)
    expect(failed.stdout).toContain(
      `::error::No tag of ${repository} matches 'nightly-*'. Nothing was pulled.`,
    )

    const ignored = await pull(repository, dest, { tag: 'nightly-*', 'if-no-files-found': 'ignore' })
    expect(ignored.code).toBe(0)
    expect(ignored.annotations).toEqual([])
  })

  test('more matches than the cap (256, a matrix’s most jobs) fail before any download, naming the count', async () => {
    const repository = freshRepository('many')
    await push(repository, 'seed', { 'a.txt': 'a' })
    const repo = repoOf(repository)
    const seed = await repo.getManifest('seed')
    for (let i = 0; i < 257; i++) await repo.putManifest(seed.bytes, seed.mediaType, `many-${i}`)
    const downloads = bed.storageRequests.length
    const dest = freshDest()
    const result = await pull(repository, dest, { tag: 'many-*' })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toContain("::error::'many-*' matches 257 tags, more than the 256 one step takes")
    expect(bed.storageRequests.length).toBe(downloads)
    expect(existsSync(dest)).toBe(false)
  })

  test('a glob with characters no tag holds is refused naming the input, before any network work', async () => {
    const before = bed.tokenRequests.length
    const result = await pull(freshRepository('bad'), freshDest(), { tag: 'reports/*' })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/::error::Input 'tag': 'reports\/\*' is not a glob over tags/)
    expect(bed.tokenRequests.length).toBe(before)
  })
})
