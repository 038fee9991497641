import { describe, expect, test } from '@jest/globals'
import { sha256Digest } from '../../../src/oci/descriptor.js'
import { MemoryRegistry } from '../../helpers/memory-registry.js'
import { buildPlatformIndex, platformEntriesOf } from '../../../src/oci/index-merge.js'
import { silentLogger } from '../../../src/oci/logger.js'
import { buildManifest, EMPTY_CONFIG } from '../../../src/oci/manifest.js'
import { PLATFORM_ANNOTATION } from '../../../src/action/layers/platform.js'
import { parsePlatform, platformTag } from '../../../src/oci/platform.js'
import { publishPlatformIndex, readPlatformTags } from '../../../src/oci/platform-publish.js'

// Every request takes a random time, reads at its start and writes at its end: the
// interleavings a real registry allows when jobs race.
const slowRegistry = () => new MemoryRegistry({ maxLatencyMs: 4 })

function platformManifest(platform: string, content = 'v1') {
  return buildManifest({
    artifactType: 'application/vnd.oci-artifact-action.directory.v1',
    config: EMPTY_CONFIG,
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: sha256Digest(platform + content),
        size: 1,
      },
    ],
    annotations: { [PLATFORM_ANNOTATION]: platform },
  })
}

const noWait = async () => {}
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64', 'linux/arm/v7']

describe('publishPlatformIndex', () => {
  test('five jobs racing to one tag, 200 times: every index lists all five', async () => {
    let extraWrites = 0
    for (let round = 0; round < 200; round++) {
      const registry = slowRegistry()
      await Promise.all(
        PLATFORMS.map((p) =>
          publishPlatformIndex(registry, 'v1', parsePlatform(p), platformManifest(p), {
            logger: silentLogger,
            platformKey: PLATFORM_ANNOTATION,
            sleep: noWait,
          }),
        ),
      )
      const index = await registry.getManifest('v1')
      expect(platformEntriesOf(index.bytes).map((e) => e.tag)).toEqual(
        [...PLATFORMS].sort().map((p) => platformTag('v1', parsePlatform(p))),
      )
      extraWrites += registry.indexWrites - PLATFORMS.length
    }
    // the race is real: some rounds needed more writes than one per job
    expect(extraWrites).toBeGreaterThan(0)
  })

  test('a re-push of one platform replaces only its entry', async () => {
    const registry = slowRegistry()
    for (const p of PLATFORMS.slice(0, 3)) {
      await publishPlatformIndex(registry, 'v1', parsePlatform(p), platformManifest(p), {
        logger: silentLogger,
        platformKey: PLATFORM_ANNOTATION,
      })
    }
    const before = platformEntriesOf((await registry.getManifest('v1')).bytes)
    const again = platformManifest('linux/arm64', 'v2')
    await publishPlatformIndex(registry, 'v1', parsePlatform('linux/arm64'), again, {
      logger: silentLogger,
      platformKey: PLATFORM_ANNOTATION,
    })
    const after = platformEntriesOf((await registry.getManifest('v1')).bytes)
    expect(after.map((e) => e.manifest.digest)).toEqual(
      before.map((e) => (e.tag === 'v1-linux-arm64' ? again.digest : e.manifest.digest)),
    )
  })

  test('a tag list that lags behind the writes does not leave the job out of its own index', async () => {
    const registry = slowRegistry()
    const real = registry.listTags.bind(registry)
    let lists = 0
    // the first two listings come from a replica that has not seen this job's platform tag yet
    registry.listTags = async () => (++lists <= 2 ? [] : await real()) as string[]
    await publishPlatformIndex(
      registry,
      'v1',
      parsePlatform('linux/amd64'),
      platformManifest('linux/amd64'),
      {
        logger: silentLogger,
        platformKey: PLATFORM_ANNOTATION,
        sleep: noWait,
      },
    )
    expect(platformEntriesOf((await registry.getManifest('v1')).bytes).map((e) => e.tag)).toEqual([
      'v1-linux-amd64',
    ])
  })

  test("a longer tag's platform tags and hand-made tags are not platforms of the tag", async () => {
    const registry = slowRegistry()
    const rc = platformManifest('linux/amd64')
    await registry.putManifest(rc.bytes, rc.mediaType, 'v1-rc-linux-amd64')
    const plain = buildManifest({ artifactType: 'application/x.a', layers: [] })
    await registry.putManifest(plain.bytes, plain.mediaType, 'v1-linux-s390x')
    const own = platformManifest('darwin/arm64')
    await registry.putManifest(own.bytes, own.mediaType, 'v1-darwin-arm64')
    expect((await readPlatformTags(registry, 'v1', PLATFORM_ANNOTATION)).map((e) => e.tag)).toEqual([
      'v1-darwin-arm64',
    ])
  })
})

test('the index is the same bytes whatever order its entries were found in', () => {
  const entries = PLATFORMS.map((p) => ({
    platform: parsePlatform(p),
    tag: platformTag('v1', parsePlatform(p)),
    manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(p), size: 9 },
  }))
  const a = buildPlatformIndex(entries, { b: '2', a: '1' })
  const b = buildPlatformIndex([...entries].reverse(), { a: '1', b: '2' })
  expect(a.digest).toBe(b.digest)
  expect(JSON.parse(a.bytes.toString()).manifests[0].platform).toEqual({
    architecture: 'arm64',
    os: 'darwin',
  })
})
