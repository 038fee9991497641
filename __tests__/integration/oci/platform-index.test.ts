import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { buildPlatformIndex, platformEntriesOf } from '../../../src/oci/index-merge.js'
import { buildManifest, EMPTY_CONFIG, type BuiltManifest } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { PLATFORM_ANNOTATION } from '../../../src/action/layers/platform.js'
import { parsePlatform, platformTag } from '../../../src/oci/platform.js'
import { publishPlatformIndex } from '../../../src/oci/platform-publish.js'
import { Repository } from '../../../src/oci/repository.js'
import {
  skopeo,
  startDistantRegistry,
  startTestbed,
  type FaultProxy,
  type Testbed,
} from '../../testbed/index.js'

let bed: Testbed
let slow: FaultProxy
let work: string
beforeAll(async () => {
  bed = await startTestbed()
  slow = await startDistantRegistry(bed.url)
  work = await mkdtemp(join(tmpdir(), 'oci-platform-index-'))
})
afterAll(async () => {
  await slow?.stop()
  await bed?.stop()
  await rm(work, { recursive: true, force: true })
})

const creds = () => `alice:${bed.users.alice!}`
// each job has its own Repository (its own token, its own connections), as matrix jobs do
const repo = (registry = bed.registry) =>
  new Repository({
    registry,
    repository: 'alice/platforms',
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: { baseDelayMs: 1 },
  })
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']

async function pushPlatform(platform: string, tag: string, registry = bed.registry, naive = false) {
  const r = repo(registry)
  const data = Buffer.from(`the ${platform} binary`)
  const layer = {
    ...descriptorOf(data, 'application/octet-stream'),
    annotations: { 'org.opencontainers.image.title': 'tool' },
  }
  await r.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
  await r.pushBlob(layer, () => Readable.from([data]))
  const manifest = buildManifest({
    artifactType: 'application/vnd.oci-artifact-action.directory.v1',
    layers: [layer],
    annotations: { [PLATFORM_ANNOTATION]: platform },
  })
  if (naive) return readMergeWrite(r, tag, platform, manifest)
  const published = await publishPlatformIndex(r, tag, parsePlatform(platform), manifest, {
    logger: { debug: () => {}, info: () => {}, warning: () => {} },
    platformKey: PLATFORM_ANNOTATION,
    annotations: { 'org.opencontainers.image.revision': 'abc' },
  })
  return { manifest, layer, data, published }
}

/** The scheme a registry without conditional writes defeats: read the index, add ours, write it. */
async function readMergeWrite(r: Repository, tag: string, platform: string, manifest: BuiltManifest) {
  await r.putManifest(manifest.bytes, manifest.mediaType, manifest.digest)
  const current = await r.getManifest(tag).catch(() => undefined)
  const others = current ? platformEntriesOf(current.bytes) : []
  const entry = {
    platform: parsePlatform(platform),
    tag: platformTag(tag, parsePlatform(platform)),
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length },
  }
  const index = buildPlatformIndex([...others.filter((e) => e.tag !== entry.tag), entry])
  await r.putManifest(index.bytes, index.mediaType, tag)
}

describe('a platform index on CNCF Distribution', () => {
  // Against the plain read-merge-write, same registry, same latency, same rounds: what it loses is
  // what the scheme must not.
  test('four platforms racing to one tag through a distant registry: read-merge-write loses entries, ours none', async () => {
    const rounds = 12
    const lost = { naive: 0, ours: 0 }
    for (const scheme of ['naive', 'ours'] as const) {
      for (let round = 0; round < rounds; round++) {
        const tag = `${scheme}${round}`
        await Promise.all(PLATFORMS.map((p) => pushPlatform(p, tag, slow.registry, scheme === 'naive')))
        lost[scheme] += PLATFORMS.length - platformEntriesOf((await repo().getManifest(tag)).bytes).length
      }
    }
    console.log(
      `${rounds} rounds x ${PLATFORMS.length} platforms: read-merge-write lost ${lost.naive} of ` +
        `${rounds * PLATFORMS.length} entries, platform tags + confirm lost ${lost.ours}`,
    )
    expect(lost.ours).toBe(0)
    expect(lost.naive).toBeGreaterThan(0)
  }, 120_000)

  test('skopeo reads the index raw, and copies the platform it is told to', async () => {
    const pushed = new Map<string, Awaited<ReturnType<typeof pushPlatform>>>()
    for (const p of PLATFORMS) pushed.set(p, await pushPlatform(p, 'v1'))
    const index = await repo().getManifest('v1')

    const raw = await skopeo(['inspect', '--raw', `docker://${bed.registry}/alice/platforms:v1`], {
      creds: creds(),
    })
    expect(Buffer.from(raw).equals(index.bytes)).toBe(true)
    const parsed = JSON.parse(raw) as { mediaType: string; manifests: { platform: object }[] }
    expect(parsed.mediaType).toBe(MediaType.OciIndex)
    expect(parsed.manifests.map((m) => m.platform)).toEqual([
      { architecture: 'arm64', os: 'darwin' },
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
      { architecture: 'amd64', os: 'windows' },
    ])

    const dir = join(work, 'darwin')
    await skopeo(
      [
        'copy',
        '--override-os',
        'darwin',
        '--override-arch',
        'arm64',
        `docker://${bed.registry}/alice/platforms:v1`,
        `oci:${dir}:v1`,
      ],
      { creds: creds() },
    )
    const darwin = pushed.get('darwin/arm64')!
    const layout = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[]
    }
    expect(layout.manifests[0]!.digest).toBe(darwin.manifest.digest)
    const blob = await readFile(join(dir, 'blobs', 'sha256', darwin.layer.digest.slice('sha256:'.length)))
    expect(blob.toString()).toBe('the darwin/arm64 binary')

    const tags = JSON.parse(
      await skopeo(['list-tags', `docker://${bed.registry}/alice/platforms`], { creds: creds() }),
    ) as { Tags: string[] }
    expect(tags.Tags).toEqual(
      expect.arrayContaining([
        'v1',
        'v1-linux-amd64',
        'v1-linux-arm64',
        'v1-darwin-arm64',
        'v1-windows-amd64',
      ]),
    )
  })
})
