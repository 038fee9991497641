import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseManifest } from '../../src/oci/manifest.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-cache-paths-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

// cargo's shape: a folder under the home directory and one in the workspace
const PATHS = '~/.cargo/registry\ntarget'
const SAVED = new Date('2024-05-06T07:08:09Z')

/** A runner of its own: another HOME and another workspace than any other job. */
function machine(name: string): { home: string; workspace: string } {
  const home = path.join(work, name, 'home')
  const workspace = path.join(work, name, 'work', 'repo', 'repo')
  mkdirSync(home, { recursive: true })
  mkdirSync(workspace, { recursive: true })
  return { home, workspace }
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, text)
  utimesSync(file, SAVED, SAVED)
}

function fill(m: { home: string; workspace: string }, target: string): void {
  write(path.join(m.home, '.cargo/registry/index/crates.txt'), 'serde 1.0\n'.repeat(500))
  write(path.join(m.workspace, 'target/debug/app'), target)
  // the folders too, so the repack of an unchanged restored tree gives the same bytes
  for (const dir of ['.cargo/registry/index', '.cargo/registry'])
    utimesSync(path.join(m.home, dir), SAVED, SAVED)
  for (const dir of ['target/debug', 'target']) utimesSync(path.join(m.workspace, dir), SAVED, SAVED)
}

// the format before incremental saves, whose layers these tests look at
const ONE_LAYER = { 'cache-incremental': 'false' }
const CHUNKED = { 'cache-incremental': 'true' }

interface Step {
  m: { home: string; workspace: string }
  key: string
  restoreKeys?: string
  path?: string
  extraInputs?: Record<string, string>
}

function step(s: Step, repository: string, post?: RunActionResult): Promise<RunActionResult> {
  return runAction({
    workspace: s.m.workspace,
    inputs: {
      mode: 'cache',
      path: s.path ?? PATHS,
      key: s.key,
      'restore-keys': s.restoreKeys ?? '',
      repository,
      username: 'alice',
      token: bed.users.alice as string,
      ...s.extraInputs,
    },
    env: { HOME: s.m.home },
    ...(post ? { post: true, state: post.state } : {}),
  })
}

/** The blobs the registry took in since `from` (its access log): PUTs that committed an upload. */
function uploadedSince(from: number, repository: string): string[] {
  const log = readFileSync(bed.logFile, 'utf8').slice(from)
  const name = repository.slice(repository.indexOf('/') + 1)
  const put = new RegExp(`"PUT /v2/${name}/blobs/uploads/[^"]*digest=sha256%3A([a-f0-9]{64})[^"]*" 201`, 'g')
  return [...log.matchAll(put)].map((m) => `sha256:${m[1]}`)
}

async function layersOf(repository: string, tag: string) {
  const repo = new Repository({
    registry: bed.registry,
    repository: repository.slice(repository.indexOf('/') + 1),
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull'],
  })
  return parseManifest((await repo.getManifest(tag)).bytes).layers
}

describe('cache of several paths through dist/', () => {
  test('one layer per path (cache-incremental: false): two paths (one under ~) restore in place on another runner; a save where one changed uploads only that one', async () => {
    const repository = `${bed.registry}/alice/cargo-cache-layers`
    const first = machine('first')
    const miss = await step({ m: first, key: 'cargo-1', extraInputs: ONE_LAYER }, repository)
    expect(miss.code).toBe(0)
    expect(miss.outputs['cache-hit']).toBe('false')
    fill(first, 'build one')
    const saved = await step({ m: first, key: 'cargo-1', extraInputs: ONE_LAYER }, repository, miss)
    expect(saved.code).toBe(0)
    expect(saved.stdout).toMatch(/Cache saved with key cargo-1 .*\(2 path\(s\)/)

    // another runner: other HOME, other workspace; each path lands under its own
    const second = machine('second')
    const restored = await step(
      { m: second, key: 'cargo-2', restoreKeys: 'cargo-', extraInputs: ONE_LAYER },
      repository,
    )
    expect(restored.code).toBe(0)
    expect(restored.outputs['cache-matched-key']).toBe('cargo-1')
    expect(readFileSync(path.join(second.home, '.cargo/registry/index/crates.txt'), 'utf8')).toContain(
      'serde',
    )
    expect(readFileSync(path.join(second.workspace, 'target/debug/app'), 'utf8')).toBe('build one')
    expect(statSync(path.join(second.workspace, 'target/debug/app')).mtimeMs).toBe(SAVED.getTime())

    // the build changes target only: the save uploads target's layer and nothing else
    write(path.join(second.workspace, 'target/debug/app'), 'build two')
    const from = readFileSync(bed.logFile, 'utf8').length
    const resaved = await step(
      { m: second, key: 'cargo-2', restoreKeys: 'cargo-', extraInputs: ONE_LAYER },
      repository,
      restored,
    )
    expect(resaved.code).toBe(0)
    expect(resaved.stdout).toMatch(/Cache saved with key cargo-2/)
    const uploads = uploadedSince(from, repository)
    const layers = await layersOf(repository, /as \S+:(c-\S+) /.exec(resaved.stdout)?.[1] as string)
    const byPath = Object.fromEntries(
      layers.map((l) => [l.annotations?.['io.github.oci-artifact-action.cache.path'], l.digest]),
    )
    expect(Object.keys(byPath)).toEqual(['~/.cargo/registry', 'target'])
    expect(uploads).toEqual([byPath.target])

    // a third runner restores the new content of both
    const third = machine('third')
    const hit = await step({ m: third, key: 'cargo-2', extraInputs: ONE_LAYER }, repository)
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(readFileSync(path.join(third.workspace, 'target/debug/app'), 'utf8')).toBe('build two')
    expect(readFileSync(path.join(third.home, '.cargo/registry/index/crates.txt'), 'utf8')).toContain('serde')
  })

  test('chunked (cache-incremental: true): two paths restore in place on another runner; a save where one changed sends only its chunk and the map', async () => {
    const repository = `${bed.registry}/alice/cargo-cache-chunks`
    const first = machine('first')
    const miss = await step({ m: first, key: 'cargo-1', extraInputs: CHUNKED }, repository)
    expect(miss.code).toBe(0)
    expect(miss.outputs['cache-hit']).toBe('false')
    fill(first, 'build one')
    const saved = await step({ m: first, key: 'cargo-1', extraInputs: CHUNKED }, repository, miss)
    expect(saved.code).toBe(0)
    expect(saved.stdout).toMatch(/Cache saved with key cargo-1 .*\(2 path\(s\)/)

    // another runner: other HOME, other workspace; each path lands under its own
    const second = machine('second')
    const restored = await step(
      { m: second, key: 'cargo-2', restoreKeys: 'cargo-', extraInputs: CHUNKED },
      repository,
    )
    expect(restored.code).toBe(0)
    expect(restored.outputs['cache-matched-key']).toBe('cargo-1')
    expect(readFileSync(path.join(second.home, '.cargo/registry/index/crates.txt'), 'utf8')).toContain(
      'serde',
    )
    expect(readFileSync(path.join(second.workspace, 'target/debug/app'), 'utf8')).toBe('build one')
    expect(statSync(path.join(second.workspace, 'target/debug/app')).mtimeMs).toBe(SAVED.getTime())

    // the build changes target only: the save uploads target's layer and nothing else
    write(path.join(second.workspace, 'target/debug/app'), 'build two')
    const from = readFileSync(bed.logFile, 'utf8').length
    const resaved = await step(
      { m: second, key: 'cargo-2', restoreKeys: 'cargo-', extraInputs: CHUNKED },
      repository,
      restored,
    )
    expect(resaved.code).toBe(0)
    expect(resaved.stdout).toMatch(/Cache saved with key cargo-2/)
    const uploads = uploadedSince(from, repository)
    // the changed path's one chunk, then the chunk map; nothing of ~/.cargo/registry
    expect(resaved.stdout).toMatch(/Saved ~\/\.cargo\/registry: .* 0 new chunk\(s\), 0 B uploaded/)
    expect(resaved.stdout).toMatch(/Saved target: .* 1 new chunk\(s\)/)
    expect(uploads).toHaveLength(2)

    // a third runner restores the new content of both
    const third = machine('third')
    const hit = await step({ m: third, key: 'cargo-2' }, repository)
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(readFileSync(path.join(third.workspace, 'target/debug/app'), 'utf8')).toBe('build two')
    expect(readFileSync(path.join(third.home, '.cargo/registry/index/crates.txt'), 'utf8')).toContain('serde')
  })

  test('the paths are part of what a key means: the same key with other paths is a miss', async () => {
    const repository = `${bed.registry}/alice/paths-key`
    const first = machine('key-first')
    const miss = await step({ m: first, key: 'k' }, repository)
    fill(first, 'x')
    expect((await step({ m: first, key: 'k' }, repository, miss)).code).toBe(0)

    const other = machine('key-other')
    const result = await step({ m: other, key: 'k', restoreKeys: 'k', path: 'target' }, repository)
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': '' })
  })

  test('globs with an exclusion: only the matches are cached, hidden files included', async () => {
    const repository = `${bed.registry}/alice/globbed`
    const lines = 'packages/*/dist\n!**/*.map'
    const first = machine('glob-first')
    const miss = await step({ m: first, key: 'g', path: lines }, repository)
    write(path.join(first.workspace, 'packages/a/dist/index.js'), 'a')
    write(path.join(first.workspace, 'packages/a/dist/index.js.map'), 'map')
    write(path.join(first.workspace, 'packages/b/dist/.tsbuildinfo'), 'hidden')
    write(path.join(first.workspace, 'packages/b/src/index.ts'), 'source')
    expect((await step({ m: first, key: 'g', path: lines }, repository, miss)).code).toBe(0)

    const second = machine('glob-second')
    const hit = await step({ m: second, key: 'g', path: lines }, repository)
    expect(hit.outputs['cache-hit']).toBe('true')
    const ws = second.workspace
    expect(readFileSync(path.join(ws, 'packages/a/dist/index.js'), 'utf8')).toBe('a')
    expect(readFileSync(path.join(ws, 'packages/b/dist/.tsbuildinfo'), 'utf8')).toBe('hidden')
    expect(() => statSync(path.join(ws, 'packages/a/dist/index.js.map'))).toThrow()
    expect(() => statSync(path.join(ws, 'packages/b/src'))).toThrow()
  })
})
