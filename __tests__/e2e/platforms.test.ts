import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Repository } from '../../src/oci/repository.js'
import { runAction } from '../helpers/run-action.js'
import { startDistantRegistry, startTestbed, type FaultProxy, type Testbed } from '../testbed/index.js'

// Rounds of three racing pushes; E2E_PLATFORM_ROUNDS raises it for a longer measurement.
const ROUNDS = Number(process.env.E2E_PLATFORM_ROUNDS ?? 8)
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64']

let bed: Testbed
let slow: FaultProxy
let work: string

beforeAll(async () => {
  bed = await startTestbed()
  slow = await startDistantRegistry(bed.url)
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-platforms-'))
})
afterAll(async () => {
  await slow?.stop()
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

const env = { SOURCE_DATE_EPOCH: '1700000000' }
const auth = () => ({ username: 'alice', token: bed.users.alice as string })

function tree(name: string, content: string): string {
  const dir = path.join(work, name, 'dist')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), content)
  return dir
}

function push(
  registry: string,
  repository: string,
  tag: string,
  platform: string,
  content: string,
  extra = {},
) {
  return runAction({
    inputs: {
      path: tree(`${repository}-${tag}-${platform}`.replace(/\W/g, '_'), content),
      repository: `${registry}/alice/${repository}`,
      tag,
      platform,
      ...auth(),
      ...extra,
    },
    env,
  })
}

async function indexOf(repository: string, tag: string) {
  const repo = new Repository({
    registry: bed.registry,
    repository: `alice/${repository}`,
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull'],
  })
  const got = await repo.getManifest(tag)
  return { digest: got.digest, mediaType: got.mediaType, json: JSON.parse(got.bytes.toString('utf8')) }
}

/** Index writes to `url` that landed after a bigger one (fewer entries: built from an older read). */
function staleIndexWrites(url: string): number {
  const writes = slow.requests
    .filter((r) => r.method === 'PUT' && r.path === url && r.status === 201)
    .sort((a, b) => (a.answeredAt ?? 0) - (b.answeredAt ?? 0))
  let biggest = 0
  let stale = 0
  for (const w of writes) {
    // an entry is ~400 bytes; platform names differ by a few
    if ((w.bytes ?? 0) < biggest - 100) stale++
    biggest = Math.max(biggest, w.bytes ?? 0)
  }
  return stale
}

const entriesOf = (index: {
  json: { manifests: { platform: { os: string; architecture: string }; digest: string }[] }
}) =>
  Object.fromEntries(
    index.json.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]),
  )

describe('platform pushes through dist/index.js', () => {
  test(
    `three platforms pushed at the same moment to one tag, ${ROUNDS} times: always an index of three`,
    async () => {
      let extraWrites = 0
      let staleWrites = 0
      for (let round = 0; round < ROUNDS; round++) {
        const tag = `r${round}`
        const runs = await Promise.all(
          PLATFORMS.map((p) => push(slow.registry, 'race', tag, p, `${p} ${round}`)),
        )
        for (const run of runs) expect([run.code, run.stderr]).toEqual([0, ''])
        const index = await indexOf('race', tag)
        expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
        // every job's own manifest is the entry for its platform: none lost, none stale
        expect(entriesOf(index)).toEqual(
          Object.fromEntries(PLATFORMS.map((p, i) => [p, runs[i]?.outputs['platform-digest']])),
        )
        // the job that confirmed last saw the final index
        expect(runs.map((r) => r.outputs.digest)).toContain(index.digest)
        for (const run of runs) {
          const m = /index writes before it settled/.test(run.stdout)
            ? /(\d+) index writes/.exec(run.stdout)
            : null
          extraWrites += m ? Number(m[1]) - 1 : 0
        }
        staleWrites += staleIndexWrites(`/v2/alice/race/manifests/${tag}`)
      }
      // What the race did, for the record: a stale write is an index with fewer entries landing after
      // one with more, the lost update a plain read-merge-write would have left in place.
      console.log(
        `${ROUNDS} rounds x ${PLATFORMS.length} pushes: ${staleWrites} stale index writes landed and were ` +
          `repaired (${extraWrites} extra index writes); every final index had all ${PLATFORMS.length}`,
      )
    },
    ROUNDS * 10_000 + 30_000,
  )

  test('each platform pulls its own tree; re-pushing one changes only its entry; provenance on the index', async () => {
    for (const p of PLATFORMS) expect((await push(bed.registry, 'rel', 'v1', p, `${p} one`)).code).toBe(0)
    const before = await indexOf('rel', 'v1')
    expect(before.json.annotations).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/octo-org/octo-repo',
      'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
    })
    expect(
      before.json.manifests.map(
        (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
      ),
    ).toEqual(['v1-darwin-arm64', 'v1-linux-amd64', 'v1-linux-arm64'])

    for (const p of PLATFORMS) {
      const out = path.join(work, 'pulled', p.replace('/', '-'))
      const pull = await runAction({
        inputs: {
          mode: 'pull',
          repository: `${bed.registry}/alice/rel`,
          tag: 'v1',
          platform: p,
          path: out,
          ...auth(),
        },
        env,
      })
      expect([pull.code, pull.stderr]).toEqual([0, ''])
      expect(pull.outputs.digest).toBe(before.digest)
      expect(readFileSync(path.join(out, 'bin', 'tool'), 'utf8')).toBe(`${p} one`)
    }
    // no platform input: the runner's (this machine is linux/amd64 or linux/arm64)
    const mine = path.join(work, 'pulled', 'runner')
    const runner = await runAction({
      inputs: { mode: 'pull', repository: `${bed.registry}/alice/rel`, tag: 'v1', path: mine, ...auth() },
      env,
    })
    expect(runner.code).toBe(0)
    expect(readFileSync(path.join(mine, 'bin', 'tool'), 'utf8')).toMatch(/^linux\//)

    const again = await push(bed.registry, 'rel', 'v1', 'linux/arm64', 'linux/arm64 two')
    expect(again.code).toBe(0)
    const after = await indexOf('rel', 'v1')
    expect(again.outputs.digest).toBe(after.digest)
    expect(after.digest).not.toBe(before.digest)
    expect(entriesOf(after)).toEqual({
      ...entriesOf(before),
      'linux/arm64': again.outputs['platform-digest'],
    })
    expect(after.json.annotations).toEqual(before.json.annotations)
    expect(again.summary).toContain('### Index `v1`')
    expect(again.summary).toMatch(/`linux\/arm64` \(this push\)/)
    expect(again.summary).toContain('platform: linux/arm64')
    expect(again.summary).toContain(`oras pull --platform linux/arm64 ${bed.registry}/alice/rel:v1`)
  })

  test('a platform the tag lacks: the error lists the ones it has', async () => {
    for (const p of ['linux/amd64', 'windows/amd64'])
      expect((await push(bed.registry, 'few', 'v1', p, p)).code).toBe(0)
    const pull = await runAction({
      inputs: {
        mode: 'pull',
        repository: `${bed.registry}/alice/few`,
        tag: 'v1',
        platform: 'darwin/arm64',
        path: path.join(work, 'none'),
        ...auth(),
      },
      env,
    })
    expect(pull.code).not.toBe(0)
    expect(pull.stdout).toMatch(/no entry for darwin\/arm64; it has 2: linux\/amd64, windows\/amd64/)
  })

  test('overwrite: false refuses other content for the platform, naming the tag, and accepts a re-run', async () => {
    const first = await push(bed.registry, 'fixed', 'v2', 'linux/amd64', 'one', { overwrite: false })
    expect(first.code).toBe(0)
    const rerun = await push(bed.registry, 'fixed', 'v2', 'linux/amd64', 'one', { overwrite: false })
    expect([rerun.code, rerun.outputs['platform-digest']]).toEqual([0, first.outputs['platform-digest']])
    const other = await push(bed.registry, 'fixed', 'v2', 'darwin/arm64', 'two', { overwrite: false })
    expect(other.code).toBe(0)
    const changed = await push(bed.registry, 'fixed', 'v2', 'linux/amd64', 'changed', { overwrite: false })
    expect(changed.code).not.toBe(0)
    expect(changed.stdout).toMatch(
      /tag 'v2' already holds linux\/amd64 as sha256:[a-f0-9]{64}.*'overwrite' is false/,
    )
    expect(entriesOf(await indexOf('fixed', 'v2'))['linux/amd64']).toBe(first.outputs['platform-digest'])

    // without a platform, the same rule on the tag itself
    const plain = {
      path: tree('plain', 'a'),
      repository: `${bed.registry}/alice/fixed`,
      tag: 'p1',
      overwrite: false,
      ...auth(),
    }
    expect((await runAction({ inputs: plain, env })).code).toBe(0)
    expect((await runAction({ inputs: plain, env })).code).toBe(0)
    const moved = await runAction({ inputs: { ...plain, path: tree('plain', 'b') }, env })
    expect(moved.code).not.toBe(0)
    expect(moved.stdout).toMatch(/tag 'p1' already holds other content/)
  })
})
