import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { skopeo, startTestbed, type Testbed } from '../testbed/index.js'

// Incremental (chunked) caches through dist/: each save after a restore sends only what changed.
// A bed of its own, so every blob in its storage belongs to these tests.
let bed: Testbed
let work: string
let eventPath: string
let counter = 0

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-incremental-'))
  eventPath = path.join(work, 'event.json')
  writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main' } }))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

interface Job {
  repository: string
  key: string
  dir: string
  restoreKeys?: string[]
  extraInputs?: Record<string, string>
}

function inputsOf(job: Job): Record<string, string> {
  return {
    mode: 'cache',
    path: path.basename(job.dir),
    key: job.key,
    'restore-keys': (job.restoreKeys ?? []).join('\n'),
    repository: job.repository,
    username: 'alice',
    token: bed.users.alice as string,
    'cache-incremental': 'true',
    ...job.extraInputs,
  }
}

const env = () => ({ GITHUB_REF: 'refs/heads/main', GITHUB_BASE_REF: '', GITHUB_EVENT_PATH: eventPath })

function restoreStep(job: Job): Promise<RunActionResult> {
  return runAction({ inputs: inputsOf(job), env: env(), workspace: path.dirname(job.dir) })
}

async function runJob(
  job: Job,
  build?: () => void,
): Promise<{ main: RunActionResult; post: RunActionResult }> {
  const main = await restoreStep(job)
  expect(main.code).toBe(0)
  build?.()
  const post = await runAction({
    inputs: inputsOf(job),
    env: env(),
    workspace: path.dirname(job.dir),
    post: true,
    state: main.state,
  })
  expect(post.code).toBe(0)
  return { main, post }
}

const warnings = (r: RunActionResult) =>
  r.annotations.filter((a) => a.level === 'warning').map((a) => a.message)
const freshDir = (name: string) => path.join(mkdtempSync(path.join(work, `${name}-`)), 'cache')
const uploaded = (post: RunActionResult) => {
  const m = /Cache saved with key .* \(1 path\(s\), (\d+) chunks, .*, ([\d.]+ [kMG]?B) uploaded\)/.exec(
    post.stdout,
  )
  expect(m).not.toBeNull()
  return { chunks: Number(m![1]), uploaded: m![2] as string }
}

// a build output: packages of a few files each, one large file
function makeTree(dir: string): void {
  for (let p = 0; p < 12; p++) {
    mkdirSync(path.join(dir, `pkg-${p}`), { recursive: true })
    for (let f = 0; f < 6; f++)
      writeFileSync(path.join(dir, `pkg-${p}`, `f${f}.bin`), randomBytes(40_000 + f * 9_000))
  }
  writeFileSync(path.join(dir, 'big.bin'), randomBytes(3 << 20))
}

describe('incremental cache saves through dist/', () => {
  test('a chain of five saves, each after a restore-keys match, restores every state exactly', async () => {
    const repository = `${bed.registry}/alice/incremental-${++counter}`
    const snapshots: string[] = []
    const changes: Array<(dir: string) => void> = [
      (dir) => makeTree(dir),
      // a package rebuilt
      (dir) => {
        for (let f = 0; f < 6; f++) writeFileSync(path.join(dir, 'pkg-3', `f${f}.bin`), randomBytes(30_000))
      },
      // a few bytes inserted near the start of the large file
      (dir) => {
        const big = readFileSync(path.join(dir, 'big.bin'))
        writeFileSync(
          path.join(dir, 'big.bin'),
          Buffer.concat([big.subarray(0, 1000), Buffer.from('inserted'), big.subarray(1000)]),
        )
      },
      // a package added, one deleted
      (dir) => {
        rmSync(path.join(dir, 'pkg-7'), { recursive: true })
        mkdirSync(path.join(dir, 'pkg-new'))
        writeFileSync(path.join(dir, 'pkg-new', 'x.bin'), randomBytes(50_000))
      },
      // nothing changed
      () => {},
    ]
    let dir = freshDir('chain-0')
    const sent: { chunks: number; uploaded: string }[] = []
    for (const [i, change] of changes.entries()) {
      const { main, post } = await runJob(
        { repository, key: `build-${i}`, restoreKeys: ['build-'], dir },
        () => change(dir),
      )
      if (i > 0) expect(main.outputs['cache-matched-key']).toBe(`build-${i - 1}`)
      expect(warnings(post)).toEqual([])
      sent.push(uploaded(post))
      const snapshot = path.join(work, `snapshot-${counter}-${i}`)
      cpSync(dir, snapshot, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
      snapshots.push(snapshot)
      // the next job starts in a fresh workspace and restores this one's cache
      dir = freshDir(`chain-${i + 1}`)
    }
    // after the first, each save sent a few chunks, and an unchanged tree none
    const firstChunks = sent[0]!.chunks
    expect(firstChunks).toBeGreaterThan(3)
    const posts = sent.map((s) => s.uploaded)
    expect(posts[4]).toBe('0 B')

    for (const [i, snapshot] of snapshots.entries()) {
      const dest = freshDir(`check-${i}`)
      const hit = await restoreStep({ repository, key: `build-${i}`, dir: dest })
      expect(hit.outputs['cache-hit']).toBe('true')
      expect(warnings(hit)).toEqual([])
      execFileSync('diff', ['-r', '--no-dereference', snapshot, dest])
    }
  })

  test('skopeo copies a chunked cache whole: the copy restores in another repository', async () => {
    const source = `${bed.registry}/alice/incremental-${++counter}`
    const copy = `${bed.registry}/alice/incremental-copy-${counter}`
    const dir = freshDir('copied')
    const { post } = await runJob({ repository: source, key: 'copy-1', dir }, () => makeTree(dir))
    const tag = /as \S+:(c-\S+) /.exec(post.stdout)?.[1] as string
    await skopeo(['copy', '--all', `docker://${source}:${tag}`, `docker://${copy}:${tag}`], {
      creds: `alice:${bed.users.alice as string}`,
    })
    const dest = freshDir('copied-dest')
    const hit = await restoreStep({ repository: copy, key: 'copy-1', dir: dest })
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(warnings(hit)).toEqual([])
    execFileSync('diff', ['-r', '--no-dereference', dir, dest])
  })

  test('a tampered chunk is refused: a miss with a warning, the destination untouched', async () => {
    const repository = `${bed.registry}/alice/incremental-${++counter}`
    const before = new Set(allBlobs())
    const dir = freshDir('tamper')
    await runJob({ repository, key: 'tamper-1', dir }, () => makeTree(dir))
    // the chunks are the new zstd blobs
    const chunks = allBlobs().filter((d) => !before.has(d) && isZstd(bed.blobPath(d)))
    expect(chunks.length).toBeGreaterThan(3)
    const victim = bed.blobPath(chunks[Math.floor(chunks.length / 2)] as string)
    const bytes = readFileSync(victim)
    const at = bytes.length >> 1
    bytes[at] = (bytes[at] as number) ^ 0xff
    writeFileSync(victim, bytes)

    const dest = freshDir('tamper-dest')
    mkdirSync(dest, { recursive: true })
    writeFileSync(path.join(dest, 'mine'), 'untouched')
    const result = await restoreStep({ repository, key: 'tamper-1', dir: dest })
    expect(result.code).toBe(0)
    expect(result.outputs).toMatchObject({ 'cache-hit': 'false', 'cache-matched-key': '' })
    expect(warnings(result).join('\n')).toMatch(
      /Could not restore the cache tamper-1 .*does not match its digest/,
    )
    expect(readdirSync(dest)).toEqual(['mine'])
    expect(readdirSync(path.dirname(dest))).toEqual(['cache'])
  })

  test('a cache saved as one layer per path still restores, and the next save builds on it', async () => {
    const repository = `${bed.registry}/alice/incremental-${++counter}`
    const dir = freshDir('old')
    const { post } = await runJob(
      { repository, key: 'old-1', dir, extraInputs: { 'cache-incremental': 'false' } },
      () => makeTree(dir),
    )
    expect(post.stdout).toMatch(/Cache saved with key old-1 .*\(1 path\(s\), [\d.]+ [kMG]?B, /)
    const dest = freshDir('old-restore')
    const { main, post: next } = await runJob({ repository, key: 'new-1', restoreKeys: ['old-'], dir: dest })
    expect(main.outputs['cache-matched-key']).toBe('old-1')
    execFileSync('diff', ['-r', '--no-dereference', dir, dest])
    expect(next.stdout).toMatch(/No chunked cache of these paths to build on/)
    const again = freshDir('again')
    const hit = await restoreStep({ repository, key: 'new-1', dir: again })
    expect(hit.outputs['cache-hit']).toBe('true')
    execFileSync('diff', ['-r', '--no-dereference', dir, again])
  })
})

function allBlobs(): string[] {
  const root = path.join(bed.storageDir, 'docker/registry/v2/blobs/sha256')
  if (!existsSync(root)) return []
  return readdirSync(root).flatMap((two) => readdirSync(path.join(root, two)).map((hex) => `sha256:${hex}`))
}

function isZstd(file: string): boolean {
  const head = readFileSync(file).subarray(0, 4)
  return head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))
}
