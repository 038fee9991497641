import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { close, freePort, listen } from '../testbed/listen.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string
let eventPath: string
let repoCounter = 0

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-cache-'))
  eventPath = path.join(work, 'event.json')
  writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' } }))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** A fresh cache repository per test, so no test sees another's caches. */
function cacheRepository(): string {
  return `${bed.registry}/alice/cache-e2e-${++repoCounter}`
}

/** A build-output-like tree: an executable, a symlink, nested dirs, a file unique to `marker`. */
function makeTree(dir: string, marker: string): string {
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  mkdirSync(path.join(dir, 'deps', 'nested'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), `#!/bin/sh\necho ${marker}\n`)
  chmodSync(path.join(dir, 'bin', 'tool'), 0o755)
  writeFileSync(path.join(dir, 'deps', 'nested', 'lib.txt'), `library ${marker}\n`.repeat(1000))
  writeFileSync(path.join(dir, 'marker'), marker)
  symlinkSync('bin/tool', path.join(dir, 'link-to-tool'))
  return dir
}

interface Job {
  repository: string
  key: string
  dir: string
  restoreKeys?: string[]
  ref?: string
  baseRef?: string
  extraInputs?: Record<string, string>
  extraEnv?: Record<string, string>
  token?: string
  username?: string
}

// Each job runs in its own workspace (the folder holding job.dir) and names the path relative
// to it, as workflows do: the path lines are part of what a key means, so they must be the same
// text in the saving and the restoring job.
function inputsOf(job: Job): Record<string, string> {
  return {
    mode: 'cache',
    path: path.basename(job.dir),
    key: job.key,
    'restore-keys': (job.restoreKeys ?? []).join('\n'),
    repository: job.repository,
    username: job.username ?? 'alice',
    token: job.token ?? (bed.users.alice as string),
    ...job.extraInputs,
  }
}

function envOf(job: Job): Record<string, string> {
  return {
    GITHUB_REF: job.ref ?? 'refs/heads/main',
    GITHUB_BASE_REF: job.baseRef ?? '',
    GITHUB_EVENT_PATH: eventPath,
    ...job.extraEnv,
  }
}

function restoreStep(job: Job): Promise<RunActionResult> {
  return runAction({ inputs: inputsOf(job), env: envOf(job), workspace: path.dirname(job.dir) })
}

function postStep(job: Job, main: RunActionResult): Promise<RunActionResult> {
  return runAction({
    inputs: inputsOf(job),
    env: envOf(job),
    workspace: path.dirname(job.dir),
    post: true,
    state: main.state,
  })
}

/** A whole job: restore in main, the work (`build`), save in post. */
async function runJob(
  job: Job,
  build?: () => void,
): Promise<{ main: RunActionResult; post: RunActionResult }> {
  const main = await restoreStep(job)
  expect(main.code).toBe(0)
  build?.()
  const post = await postStep(job, main)
  return { main, post }
}

function warnings(result: RunActionResult): string[] {
  return result.annotations.filter((a) => a.level === 'warning').map((a) => a.message)
}

function freshDir(name: string): string {
  return path.join(mkdtempSync(path.join(work, `${name}-`)), 'cache')
}

describe('cache mode through dist/', () => {
  test('a miss restores nothing, the post step saves, and the next job hits exactly with files and modes', async () => {
    const repository = cacheRepository()
    const first = freshDir('first')
    // the one-layer format, whose save streams the layer into its upload
    const { main, post } = await runJob(
      { repository, key: 'build-linux-abc', dir: first, extraInputs: { 'cache-incremental': 'false' } },
      () => makeTree(first, 'v1'),
    )
    expect(main.outputs).toMatchObject({
      'cache-hit': 'false',
      'cache-matched-key': '',
      'cache-primary-key': 'build-linux-abc',
    })
    expect(main.stdout).toContain('Cache not found for input keys: build-linux-abc')
    expect(main.summary).toContain('## Cache miss')
    expect(post.code).toBe(0)
    expect(warnings(post)).toEqual([])
    expect(post.stdout).toMatch(/Cache saved with key build-linux-abc/)
    // after a miss the layer went up while it was packed, in one streamed upload
    expect(post.stdout).toMatch(/Uploaded .* while packing/)

    const second = freshDir('second')
    const hit = await restoreStep({ repository, key: 'build-linux-abc', dir: second })
    expect(hit.code).toBe(0)
    expect(hit.outputs).toMatchObject({ 'cache-hit': 'true', 'cache-matched-key': 'build-linux-abc' })
    expect(hit.summary).toMatch(/## Cache hit[\s\S]*`build-linux-abc` \(exact\)/)
    execFileSync('diff', ['-r', '--no-dereference', first, second])
    expect(statSync(path.join(second, 'bin', 'tool')).mode & 0o777).toBe(0o755)
    expect(statSync(path.join(second, 'marker')).mode & 0o777).toBe(0o644)
    expect(lstatSync(path.join(second, 'link-to-tool')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(path.join(second, 'link-to-tool'))).toBe('bin/tool')

    // an exact hit is not saved again
    const again = await postStep({ repository, key: 'build-linux-abc', dir: second }, hit)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('Cache hit occurred on the primary key build-linux-abc, not saving cache.')
    expect(again.stdout).not.toMatch(/Cache saved/)
  })

  test('a hit gives files, symlinks and directories their saved mtimes, as actions/cache does', async () => {
    const repository = cacheRepository()
    const first = freshDir('mtimes')
    const saved = new Date('2024-05-06T07:08:09Z')
    const entries = ['marker', 'bin/tool', 'deps/nested/lib.txt', 'deps/nested', 'deps', 'bin']
    const { post } = await runJob({ repository, key: 'mtimes-1', dir: first }, () => {
      makeTree(first, 'mtimes')
      for (const entry of entries) utimesSync(path.join(first, entry), saved, saved)
      lutimesSync(path.join(first, 'link-to-tool'), saved, saved)
    })
    expect(post.code).toBe(0)

    const second = freshDir('mtimes-restore')
    const hit = await restoreStep({ repository, key: 'mtimes-1', dir: second })
    expect(hit.outputs['cache-hit']).toBe('true')
    for (const entry of entries) {
      expect([entry, statSync(path.join(second, entry)).mtimeMs]).toEqual([entry, saved.getTime()])
    }
    expect(lstatSync(path.join(second, 'link-to-tool')).mtimeMs).toBe(saved.getTime())
  })

  test('restore-keys pick the newest of several matching caches', async () => {
    const repository = cacheRepository()
    // saved in this order: the newest is -2, not the last in any sort of the keys
    for (const marker of ['deps-1', 'deps-3', 'deps-2']) {
      const dir = makeTree(freshDir(marker), marker)
      const { post } = await runJob({ repository, key: marker, dir })
      expect(post.stdout).toMatch(new RegExp(`Cache saved with key ${marker}`))
    }
    const dest = freshDir('restore')
    const result = await restoreStep({
      repository,
      key: 'deps-9',
      restoreKeys: ['nothing-', 'deps-'],
      dir: dest,
    })
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': 'deps-2' })
    expect(readFileSync(path.join(dest, 'marker'), 'utf8')).toBe('deps-2')

    // a partial match is saved under the new key at the end of the job; the files did not
    // change, so neither did the layer, and it is not uploaded again
    const post = await postStep({ repository, key: 'deps-9', dir: dest }, result)
    expect(post.stdout).toMatch(/Cache saved with key deps-9 .*0 B uploaded/)
    expect(post.stdout).toMatch(/is already in the registry: not uploaded/)
  })

  test('lookup-only reports a hit and downloads nothing', async () => {
    const repository = cacheRepository()
    const dir = makeTree(freshDir('saved'), 'v1')
    await runJob({ repository, key: 'lookup-key', dir })
    const dest = freshDir('lookup')
    const result = await restoreStep({
      repository,
      key: 'lookup-key',
      dir: dest,
      extraInputs: { 'lookup-only': 'true' },
    })
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({ 'cache-hit': 'true', 'cache-matched-key': 'lookup-key' })
    expect(existsSync(dest)).toBe(false)
  })

  test('fail-on-cache-miss fails the job on a miss, with actions/cache’s message', async () => {
    const repository = cacheRepository()
    const result = await restoreStep({
      repository,
      key: 'never-saved',
      dir: freshDir('miss'),
      extraInputs: { 'fail-on-cache-miss': 'true' },
    })
    expect(result.code).toBe(1)
    expect(result.annotations).toContainEqual({
      level: 'error',
      message: 'Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: never-saved',
    })
  })

  test('a pull request restores the default branch’s cache but cannot overwrite it', async () => {
    const repository = cacheRepository()
    const mainDir = makeTree(freshDir('main'), 'from-main')
    await runJob({ repository, key: 'shared-key', dir: mainDir })

    const pr = { repository, key: 'shared-key', ref: 'refs/pull/7/merge', baseRef: 'main' }
    const prDir = freshDir('pr')
    const { main, post } = await runJob({ ...pr, dir: prDir }, () => {
      writeFileSync(path.join(prDir, 'marker'), 'poisoned')
    })
    expect(main.outputs['cache-hit']).toBe('true')
    expect(readFileSync(path.join(prDir, 'marker'), 'utf8')).toBe('poisoned')
    expect(post.stdout).not.toMatch(/Cache saved/)

    // a different key saved by the PR lands in the PR's scope only
    const prOnly = makeTree(freshDir('pr-only'), 'pr-only')
    const prSave = await runJob({ ...pr, key: 'shared-key-pr', dir: prOnly })
    expect(prSave.post.stdout).toMatch(/Cache saved with key shared-key-pr/)
    const onMain = await restoreStep({
      repository,
      key: 'shared-key-pr',
      restoreKeys: ['shared-key'],
      dir: freshDir('m'),
    })
    expect(onMain.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': 'shared-key' })
    const onPr = await restoreStep({ ...pr, key: 'shared-key-pr', dir: freshDir('p') })
    expect(onPr.outputs).toMatchObject({ 'cache-hit': 'true', 'cache-matched-key': 'shared-key-pr' })
  })

  test('a save the registry refuses is a warning and a green job', async () => {
    // bob may read alice's public cache but not push to it: the token service leaves push out of
    // his token, as ghcr.io does for a fork's read-only GITHUB_TOKEN
    const repository = cacheRepository()
    bed.setPublic(repository.slice(bed.registry.length + 1))
    const dir = makeTree(freshDir('denied'), 'v1')
    const job = { repository, key: 'denied-key', dir, username: 'bob', token: bed.users.bob as string }
    const { main, post } = await runJob(job)
    expect(main.outputs['cache-hit']).toBe('false')
    expect(warnings(main)).toEqual([])
    expect(post.code).toBe(0)
    const warned = warnings(post).join('\n')
    expect(warned).toMatch(/^Cache not saved: .*(401|403)/)
    expect(warned).toContain('Check that the credentials may push to this repository')
    // the refusal came before any packing: nothing was packed for an upload that could not happen
    expect(post.stdout).not.toMatch(/Packed \d+ files/)
  })

  test('a registry that cannot be reached is a warning and a miss, in restore and in save', async () => {
    // a port nothing listens on: connections are refused, as from a registry that is down
    const closed = `127.0.0.1:${await freePort()}/alice/cache`
    const dir = makeTree(freshDir('unreachable'), 'v1')
    const { main, post } = await runJob({ repository: closed, key: 'k', dir })
    expect(main.code).toBe(0)
    expect(main.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': '' })
    expect(warnings(main).join('\n')).toContain(`Could not look up the cache in ${closed}`)
    expect(post.code).toBe(0)
    expect(warnings(post).join('\n')).toMatch(/Cache not saved: the registry could not be used/)
  })

  test('with the registry out of reach, both steps turn to GitHub’s cache service, and say so', async () => {
    // a stand-in for the service on loopback: no cache for any key, and any key already reserved
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
      const dir = makeTree(freshDir('fallback'), 'v1')
      const job = {
        repository: unreachable,
        key: 'fallback-key',
        restoreKeys: ['fallback-'],
        dir,
        extraEnv: { ACTIONS_CACHE_URL: `http://127.0.0.1:${port}/`, ACTIONS_RUNTIME_TOKEN: 'runtime-token' },
      }
      const { main, post } = await runJob(job)
      expect(main.code).toBe(0)
      expect(main.outputs['cache-hit']).toBe('false')
      expect(post.code).toBe(0)
      expect(post.annotations).toContainEqual({
        level: 'notice',
        message:
          "Saving the cache to GitHub's cache service instead of the registry: the registry could not be used when restoring",
      })
      // the restore asked for the key and the restore keys; the save tried to reserve the key
      expect(requests.some((r) => r.startsWith('GET ') && r.includes('keys=fallback-key,fallback-'))).toBe(
        true,
      )
      expect(requests.some((r) => r.startsWith('POST ') && r.includes('_apis/artifactcache/caches'))).toBe(
        true,
      )
    } finally {
      await close(service)
    }
  })
})
