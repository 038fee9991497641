import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { platformEntriesOf } from '../../../src/oci/index-merge.js'
import { buildManifest, EMPTY_CONFIG } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { parsePlatform, PLATFORM_ANNOTATION } from '../../../src/oci/platform.js'
import { publishPlatformIndex } from '../../../src/oci/platform-publish.js'
import { Repository } from '../../../src/oci/repository.js'
import { skopeo, startTestbed, type Testbed } from '../../testbed/index.js'

let bed: Testbed
let work: string
beforeAll(async () => {
  bed = await startTestbed()
  work = await mkdtemp(join(tmpdir(), 'oci-platform-index-'))
})
afterAll(async () => {
  await bed?.stop()
  await rm(work, { recursive: true, force: true })
})

const creds = () => `alice:${bed.users.alice!}`
// each job has its own Repository (its own token, its own connections), as matrix jobs do
const repo = () =>
  new Repository({
    registry: bed.registry,
    repository: 'alice/platforms',
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: { baseDelayMs: 1 },
  })
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64']

async function pushPlatform(platform: string, tag: string) {
  const r = repo()
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
  const published = await publishPlatformIndex(r, tag, parsePlatform(platform), manifest, {
    logger: { debug: () => {}, info: () => {}, warning: () => {} },
    annotations: { 'org.opencontainers.image.revision': 'abc' },
  })
  return { manifest, layer, data, published }
}

describe('a platform index on CNCF Distribution', () => {
  test('four platforms racing to one tag, ten times: the index lists all four', async () => {
    for (let round = 0; round < 10; round++) {
      await Promise.all(PLATFORMS.map((p) => pushPlatform(p, `race${round}`)))
      const index = await repo().getManifest(`race${round}`)
      expect(platformEntriesOf(index.bytes).length).toBe(4)
    }
  })

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
