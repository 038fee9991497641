import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../helpers/run-action.js'
import { skopeo, startTestbed, type Testbed } from '../testbed/index.js'

// A tree above max-layer-size goes up as several layers and comes back as the one tree. The
// threshold is set small here (1 MiB over a few MiB of incompressible data) to prove the path.

let bed: Testbed
let work: string
let alice: string

beforeAll(async () => {
  bed = await startTestbed()
  alice = bed.users.alice as string
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-split-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

const MiB = 2 ** 20

/** About 4.5 MiB that will not compress: a file larger than the threshold, many smaller ones. */
function makeLargeTree(dir: string): string {
  mkdirSync(path.join(dir, 'data', 'deep'), { recursive: true })
  mkdirSync(path.join(dir, 'empty', 'nested'), { recursive: true })
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  writeFileSync(path.join(dir, 'big.bin'), randomBytes(1.5 * MiB))
  for (let i = 0; i < 8; i++) writeFileSync(path.join(dir, 'data', `${i}.bin`), randomBytes(300 * 1024))
  writeFileSync(path.join(dir, 'data', 'deep', 'last.bin'), randomBytes(200 * 1024))
  writeFileSync(path.join(dir, 'bin', 'tool'), '#!/bin/sh\necho split\n')
  chmodSync(path.join(dir, 'bin', 'tool'), 0o755)
  symlinkSync('bin/tool', path.join(dir, 'zz-link'))
  symlinkSync('../nowhere', path.join(dir, 'dangling'))
  return dir
}

function expectSameTree(a: string, b: string) {
  execFileSync('diff', ['-r', '--no-dereference', a, b])
  expect(statSync(path.join(b, 'bin', 'tool')).mode & 0o777).toBe(0o755)
  expect(lstatSync(path.join(b, 'zz-link')).isSymbolicLink()).toBe(true)
  expect(readlinkSync(path.join(b, 'dangling'))).toBe('../nowhere')
  expect(statSync(path.join(b, 'empty', 'nested')).isDirectory()).toBe(true)
}

const creds = () => ({ username: 'alice', token: alice })

interface Layer {
  digest: string
  size: number
  annotations: Record<string, string>
}

async function manifestOf(repository: string, tag: string): Promise<{ layers: Layer[] }> {
  const raw = await skopeo(['inspect', '--raw', `docker://${repository}:${tag}`], {
    creds: `alice:${alice}`,
  })
  return JSON.parse(raw) as { layers: Layer[] }
}

describe('a tree above max-layer-size', () => {
  test('is pushed as several layers and pulled back as the identical tree', async () => {
    const src = makeLargeTree(path.join(work, 'rt', 'dist'))
    const repository = `${bed.registry}/alice/split`
    const env = { SOURCE_DATE_EPOCH: '1700000000' }
    const push = await runAction({
      inputs: { path: src, repository, tag: 'v1', 'max-layer-size': '1MiB', ...creds() },
      env,
    })
    expect(push.stderr).toBe('')
    expect(push.code).toBe(0)
    const { layers } = await manifestOf(repository, 'v1')
    expect(layers.length).toBeGreaterThanOrEqual(4)
    const n = layers.length
    layers.forEach((layer, i) => {
      expect(layer.annotations).toEqual({
        'io.deis.oras.content.digest': expect.stringMatching(/^sha256:/),
        'io.deis.oras.content.unpack': 'true',
        'org.opencontainers.image.title': `dist.part-${i + 1}-of-${n}`,
        'io.github.oci-artifact-action.tree.part': `${i + 1}/${n}`,
      })
    })
    // each part stays within the threshold, but the file larger than it, which goes alone
    expect(layers.filter((l) => l.size > 1.05 * MiB)).toHaveLength(1)
    expect(push.stdout).toContain(`pushing it as ${n} layers`)

    const out = path.join(work, 'rt', 'out')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...creds() } })
    expect(pull.stderr).toBe('')
    expect(pull.code).toBe(0)
    expectSameTree(src, out)
    expect(readdirSync(path.join(work, 'rt')).sort()).toEqual(['dist', 'out'])

    // the cut and each part are reproducible: the same tree again gives the same manifest
    const again = await runAction({
      inputs: { path: src, repository, tag: 'v2', 'max-layer-size': '1MiB', ...creds() },
      env,
    })
    expect(again.code).toBe(0)
    expect(again.outputs.digest).toBe(push.outputs.digest)
  })

  test('below the threshold it is the one ORAS layer, as always', async () => {
    const src = makeLargeTree(path.join(work, 'one', 'dist'))
    const repository = `${bed.registry}/alice/not-split`
    const push = await runAction({ inputs: { path: src, repository, tag: 'v1', ...creds() } })
    expect(push.code).toBe(0)
    const { layers } = await manifestOf(repository, 'v1')
    expect(layers).toHaveLength(1)
    expect(Object.keys(layers[0]!.annotations).sort()).toEqual([
      'io.deis.oras.content.digest',
      'io.deis.oras.content.unpack',
      'org.opencontainers.image.title',
    ])
  })

  test('a tampered part fails the pull and leaves no destination', async () => {
    const src = makeLargeTree(path.join(work, 'bad', 'dist'))
    const repository = `${bed.registry}/alice/split-tampered`
    const push = await runAction({
      inputs: { path: src, repository, tag: 'v1', 'max-layer-size': '1MiB', ...creds() },
    })
    expect(push.code).toBe(0)
    const { layers } = await manifestOf(repository, 'v1')
    const victim = layers[layers.length - 1]!
    const blob = bed.blobPath(victim.digest)
    const bytes = readFileSync(blob)
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff
    writeFileSync(blob, bytes)
    const out = path.join(work, 'bad', 'out')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...creds() } })
    expect(pull.code).not.toBe(0)
    expect(pull.stdout).toMatch(new RegExp(`::error::.*${victim.digest}`))
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(path.join(work, 'bad'))).toEqual(['dist'])
  })
})

describe('a cache path above max-layer-size', () => {
  test('is saved as several layers and restored as the one path, mtimes included', async () => {
    const eventPath = path.join(work, 'event.json')
    writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' } }))
    const inputs = {
      mode: 'cache',
      path: 'cache',
      key: 'big-1',
      repository: `${bed.registry}/alice/split-cache`,
      'max-layer-size': '1MiB',
      // the one-layer format, whose layers max-layer-size cuts (a chunked cache's chunks are 4 MiB at most)
      'cache-incremental': 'false',
      ...creds(),
    }
    const env = { GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: eventPath }
    const first = path.join(work, 'cache-a')
    mkdirSync(first)
    const main = await runAction({ inputs, env, workspace: first })
    expect(main.code).toBe(0)
    const saved = makeLargeTree(path.join(first, 'cache'))
    const post = await runAction({ inputs, env, workspace: first, post: true, state: main.state })
    expect(post.code).toBe(0)
    expect(post.stdout).toMatch(/Cache saved with key big-1 .*\(1 path\(s\)/)

    const second = path.join(work, 'cache-b')
    mkdirSync(second)
    const hit = await runAction({ inputs, env, workspace: second })
    expect(hit.code).toBe(0)
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(hit.stdout).toMatch(/Restored .*cache from [0-9]+ parts/)
    const restored = path.join(second, 'cache')
    expectSameTree(saved, restored)
    expect(statSync(path.join(restored, 'big.bin')).mtimeMs).toBe(
      Math.floor(statSync(path.join(saved, 'big.bin')).mtimeMs / 1000) * 1000,
    )
    expect(readdirSync(second)).toEqual(['cache'])
  })
})
