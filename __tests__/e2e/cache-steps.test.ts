import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '../../src/oci/repository.js'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { close, freePort, listen } from '../testbed/listen.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

// cache/restore and cache/save: two sub-actions, each a main step of its own (no post step), as
// actions/cache/restore and actions/cache/save are. Run through the bundles their action.yml names.

let bed: Testbed
let work: string
let eventPath: string
let repoCounter = 0

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-cache-steps-'))
  eventPath = path.join(work, 'event.json')
  writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' } }))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

function cacheRepository(): string {
  return `${bed.registry}/alice/cache-steps-${++repoCounter}`
}

function makeTree(dir: string, marker: string): string {
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), `#!/bin/sh\necho ${marker}\n`)
  chmodSync(path.join(dir, 'bin', 'tool'), 0o755)
  writeFileSync(path.join(dir, 'marker'), marker)
  return dir
}

/** A job's workspace with the cached folder in it, named `deps` as the `path` input says. */
function freshDir(name: string): string {
  return path.join(mkdtempSync(path.join(work, `${name}-`)), 'deps')
}

interface Step {
  repository: string
  dir: string
  key: string
  ref?: string
  baseRef?: string
  inputs?: Record<string, string>
  env?: Record<string, string>
}

function envOf(step: Step): Record<string, string> {
  return {
    GITHUB_REF: step.ref ?? 'refs/heads/main',
    GITHUB_BASE_REF: step.baseRef ?? '',
    GITHUB_EVENT_PATH: eventPath,
    ...step.env,
  }
}

function restore(step: Step & { restoreKeys?: string[] }): Promise<RunActionResult> {
  return runAction({
    action: 'cache/restore',
    inputs: {
      path: 'deps',
      key: step.key,
      'restore-keys': (step.restoreKeys ?? []).join('\n'),
      repository: step.repository,
      username: 'alice',
      token: bed.users.alice as string,
      ...step.inputs,
    },
    env: envOf(step),
    workspace: path.dirname(step.dir),
  })
}

function save(step: Step): Promise<RunActionResult> {
  return runAction({
    action: 'cache/save',
    inputs: {
      path: 'deps',
      key: step.key,
      repository: step.repository,
      username: 'alice',
      token: bed.users.alice as string,
      ...step.inputs,
    },
    env: envOf(step),
    workspace: path.dirname(step.dir),
  })
}

function warnings(result: RunActionResult): string[] {
  return result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)
}

async function tagsOf(repository: string): Promise<string[]> {
  const repo = new Repository({
    registry: bed.registry,
    repository: repository.slice(bed.registry.length + 1),
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull'],
  })
  return repo.listTags()
}

describe('cache/restore and cache/save as two steps', () => {
  test('restore misses, save stores under the primary key, the next job restores it exactly', async () => {
    const repository = cacheRepository()
    const first = freshDir('first')
    const restored = await restore({ repository, dir: first, key: 'deps-linux-1' })
    expect(restored.code).toBe(0)
    expect(restored.outputs).toEqual({
      'cache-primary-key': 'deps-linux-1',
      'cache-hit': 'false',
      'cache-matched-key': '',
    })
    expect(restored.stdout).toContain('Cache not found for input keys: deps-linux-1')
    expect(restored.summary).toContain('## Cache miss')
    // no post step follows a sub-action, and the restore leaves it nothing
    expect(restored.state).toEqual({})

    makeTree(first, 'v1')
    // `key: ${{ steps.restore.outputs.cache-primary-key }}`, as in actions/cache's README
    const saved = await save({ repository, dir: first, key: restored.outputs['cache-primary-key'] as string })
    expect(saved.code).toBe(0)
    expect(warnings(saved)).toEqual([])
    expect(saved.stdout).toMatch(/Cache saved with key deps-linux-1 as /)
    expect(saved.summary).toMatch(/## Cache saved[\s\S]*`deps-linux-1`[\s\S]*Store \| .*cache-steps-/)
    expect(saved.outputs).toEqual({})

    const second = freshDir('second')
    const hit = await restore({ repository, dir: second, key: 'deps-linux-1' })
    expect(hit.outputs).toEqual({
      'cache-primary-key': 'deps-linux-1',
      'cache-hit': 'true',
      'cache-matched-key': 'deps-linux-1',
    })
    execFileSync('diff', ['-r', '--no-dereference', first, second])
    expect(statSync(path.join(second, 'bin', 'tool')).mode & 0o777).toBe(0o755)
  })

  test('restore without save (a pull_request job, or save only on main) creates nothing', async () => {
    const repository = cacheRepository()
    const dir = makeTree(freshDir('restore-only'), 'local')
    const result = await restore({ repository, dir, key: 'never-saved', restoreKeys: ['never-'] })
    expect(result.code).toBe(0)
    expect(result.outputs['cache-hit']).toBe('false')
    expect(result.state).toEqual({})
    // the package does not even exist: nothing was pushed, tagged or indexed
    expect(await tagsOf(repository)).toEqual([])
    expect(readFileSync(path.join(dir, 'marker'), 'utf8')).toBe('local')
  })

  test('keys are immutable: a second save of a key is skipped, unless cache-update moves it', async () => {
    const repository = cacheRepository()
    const v1 = makeTree(freshDir('v1'), 'v1')
    expect((await save({ repository, dir: v1, key: 'tools' })).code).toBe(0)

    const v2 = makeTree(freshDir('v2'), 'v2')
    const skipped = await save({ repository, dir: v2, key: 'tools' })
    expect(skipped.code).toBe(0)
    expect(skipped.stdout).toContain('Cache tools already exists (keys are immutable): not saving it')
    expect(skipped.stdout).not.toMatch(/Cache saved/)
    expect(skipped.summary).toMatch(/## Cache not saved[\s\S]*already exists/)
    const still = freshDir('still')
    await restore({ repository, dir: still, key: 'tools' })
    expect(readFileSync(path.join(still, 'marker'), 'utf8')).toBe('v1')

    const updated = await save({ repository, dir: v2, key: 'tools', inputs: { 'cache-update': 'true' } })
    expect(updated.stdout).toMatch(/Cache saved with key tools/)
    const now = freshDir('now')
    const hit = await restore({ repository, dir: now, key: 'tools' })
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(readFileSync(path.join(now, 'marker'), 'utf8')).toBe('v2')
  })

  test("scopes as in mode: cache: a pull request restores main's save, and its own save stays its own", async () => {
    const repository = cacheRepository()
    await save({ repository, dir: makeTree(freshDir('main'), 'main'), key: 'build-1' })

    const pr = { repository, ref: 'refs/pull/9/merge', baseRef: 'main' }
    const prDir = freshDir('pr')
    const fromMain = await restore({ ...pr, dir: prDir, key: 'build-2', restoreKeys: ['build-'] })
    expect(fromMain.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': 'build-1' })
    expect(readFileSync(path.join(prDir, 'marker'), 'utf8')).toBe('main')

    writeFileSync(path.join(prDir, 'marker'), 'pr')
    expect((await save({ ...pr, dir: prDir, key: 'build-2' })).stdout).toMatch(/Cache saved with key build-2/)
    const onMain = await restore({ repository, dir: freshDir('m'), key: 'build-2', restoreKeys: ['build-'] })
    expect(onMain.outputs['cache-matched-key']).toBe('build-1')
    const onPr = await restore({ ...pr, dir: freshDir('p'), key: 'build-2' })
    expect(onPr.outputs['cache-hit']).toBe('true')
  })

  test('fail-on-cache-miss fails the restore step with actions/cache’s message', async () => {
    const result = await restore({
      repository: cacheRepository(),
      dir: freshDir('fail'),
      key: 'missing',
      inputs: { 'fail-on-cache-miss': 'true' },
    })
    expect(result.code).not.toBe(0)
    expect(result.annotations).toContainEqual({
      level: 'error',
      message: 'Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: missing',
    })
  })

  test('a save step without a key fails naming the input, before any network work', async () => {
    const before = bed.tokenRequests.length
    const result = await save({
      repository: cacheRepository(),
      dir: makeTree(freshDir('nokey'), 'x'),
      key: '',
    })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/::error::Input 'key': is required/)
    expect(bed.tokenRequests.length).toBe(before)
  })

  test('a save the registry cannot take goes to GitHub’s cache service, and the summary says so', async () => {
    const requests: string[] = []
    const service = createServer((req, res) => {
      requests.push(`${req.method} ${decodeURIComponent(req.url ?? '')}`)
      req.resume()
      if (req.method === 'GET') res.writeHead(204).end()
      else res.writeHead(409, { 'content-type': 'application/json' }).end('{"message":"already exists"}')
    })
    const port = await listen(service, '127.0.0.1')
    try {
      const unreachable = `127.0.0.1:${await freePort()}/alice/cache`
      const step = {
        repository: unreachable,
        dir: makeTree(freshDir('fallback'), 'v1'),
        key: 'fallback-key',
        env: { ACTIONS_CACHE_URL: `http://127.0.0.1:${port}/`, ACTIONS_RUNTIME_TOKEN: 'runtime-token' },
      }
      const restored = await restore({ ...step, restoreKeys: ['fallback-'] })
      expect(restored.code).toBe(0)
      expect(restored.outputs['cache-hit']).toBe('false')
      expect(requests.some((r) => r.startsWith('GET ') && r.includes('keys=fallback-key,fallback-'))).toBe(
        true,
      )

      const saved = await save(step)
      expect(saved.code).toBe(0)
      expect(saved.annotations).toContainEqual(
        expect.objectContaining({
          level: 'notice',
          message: expect.stringMatching(
            /^Saving the cache to GitHub's cache service instead of the registry: /,
          ),
        }),
      )
      expect(requests.some((r) => r.startsWith('POST ') && r.includes('_apis/artifactcache/caches'))).toBe(
        true,
      )
      expect(saved.summary).toMatch(/## Cache not saved/)
    } finally {
      await close(service)
    }
  })
})
