import { describe, expect, test } from '@jest/globals'
import { readFile, writeFile } from 'node:fs/promises'

import {
  LayoutError,
  pushLayout,
  readLayout,
  selectManifests,
  type Descriptor,
} from '../../../src/oci/layout/index.js'
import { LayoutBuilder } from './layout-fixture.js'
import { sha256Digest as sha256 } from '../../../src/oci/descriptor.js'
import { MemoryRegistry } from '../../helpers/memory-registry.js'

async function seedLikeLayout() {
  const builder = await LayoutBuilder.create()
  const image = await builder.image([Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5])])
  await builder.writeIndex([{ descriptor: image, name: '1.0.0' }])
  return { builder, image, layout: await readLayout(builder.dir) }
}

describe('pushLayout', () => {
  test('uploads every blob byte for byte and the manifest by its exact bytes, so the digests are the layout’s', async () => {
    const { builder, image, layout } = await seedLikeLayout()
    const registry = new MemoryRegistry()
    let progressed = 0
    let plan:
      { uploadBytes: number; uploadBlobs: number; skippedBlobs: number; totalBytes: number } | undefined

    const pushed = await pushLayout(layout, registry, selectManifests(layout), [], {
      onStart: (p) => (plan = p),
      onProgress: (bytes) => (progressed += bytes),
    })

    expect(pushed).toEqual([
      { name: '1.0.0', digest: image.digest, mediaType: image.mediaType, size: image.size, tags: ['1.0.0'] },
    ])
    expect(registry.tags.get('1.0.0')).toBe(image.digest)
    const manifestBytes = await readFile(builder.blobFile(image.digest))
    expect(registry.manifests.get(image.digest)?.bytes.equals(manifestBytes)).toBe(true)
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] }
    for (const blob of [manifest.config, ...manifest.layers]) {
      expect(registry.blobs.get(blob.digest)?.equals(await readFile(builder.blobFile(blob.digest)))).toBe(
        true,
      )
    }
    const blobBytes = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0)
    expect(plan).toEqual({ uploadBytes: blobBytes, uploadBlobs: 2, skippedBlobs: 0, totalBytes: blobBytes })
    expect(progressed).toBe(blobBytes)
  })

  test('skips blobs the registry already has', async () => {
    const { builder, image, layout } = await seedLikeLayout()
    const registry = new MemoryRegistry()
    const manifest = JSON.parse(await readFile(builder.blobFile(image.digest), 'utf8')) as {
      layers: Descriptor[]
    }
    const layer = manifest.layers[0] as Descriptor
    registry.blobs.set(layer.digest, await readFile(builder.blobFile(layer.digest)))

    let plan: { uploadBytes: number; totalBytes: number; skippedBlobs: number } | undefined
    await pushLayout(layout, registry, selectManifests(layout), ['v1'], { onStart: (p) => (plan = p) })

    expect(plan).toMatchObject({ totalBytes: plan!.uploadBytes + layer.size, skippedBlobs: 1 })
    expect(registry.requests).toContain(`HEAD blob ${layer.digest}`)
    expect(registry.requests).not.toContain(`PUT blob ${layer.digest}`)
    expect(registry.requests.filter((c) => c.startsWith('PUT blob'))).toHaveLength(1)
  })

  test('one manifest goes under the given tags instead of its ref name', async () => {
    const { image, layout } = await seedLikeLayout()
    const registry = new MemoryRegistry()
    const pushed = await pushLayout(layout, registry, selectManifests(layout, '1.0.0'), ['1.0.0', 'latest'])
    expect(pushed[0]?.tags).toEqual(['1.0.0', 'latest'])
    expect([...registry.tags]).toEqual([
      ['1.0.0', image.digest],
      ['latest', image.digest],
    ])
  })

  test('an index goes after its manifests, each child by digest, and several roots under their own names', async () => {
    const builder = await LayoutBuilder.create()
    const amd64 = await builder.image(['amd64'])
    const arm64 = await builder.image(['arm64'])
    const multi = await builder.index([amd64, arm64])
    const other = await builder.image(['other'])
    await builder.writeIndex([
      { descriptor: multi, name: '2.0.0' },
      { descriptor: other, name: 'other' },
    ])
    const layout = await readLayout(builder.dir)
    const registry = new MemoryRegistry()

    await pushLayout(layout, registry, selectManifests(layout), [])

    const manifestPuts = registry.requests.filter((c) => c.startsWith('PUT manifest'))
    expect(manifestPuts).toEqual([
      `PUT manifest ${amd64.digest}`,
      `PUT manifest ${arm64.digest}`,
      'PUT manifest 2.0.0',
      'PUT manifest other',
    ])
    const lastBlobPut = registry.requests.map((c) => c.startsWith('PUT blob')).lastIndexOf(true)
    expect(lastBlobPut).toBeLessThan(registry.requests.indexOf(manifestPuts[0] as string))
    expect(registry.tags.get('2.0.0')).toBe(multi.digest)
    expect(registry.tags.get('other')).toBe(other.digest)
  })

  test('a broken layout is refused before anything reaches the registry', async () => {
    const { builder, image, layout } = await seedLikeLayout()
    const manifest = JSON.parse(await readFile(builder.blobFile(image.digest), 'utf8')) as {
      layers: Descriptor[]
    }
    const layer = manifest.layers[0] as Descriptor
    await writeFile(builder.blobFile(layer.digest), Buffer.alloc(layer.size))
    const registry = new MemoryRegistry()

    const error = await pushLayout(layout, registry, selectManifests(layout), []).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(LayoutError)
    expect((error as LayoutError).file).toBe(builder.blobFile(layer.digest))
    expect(registry.requests).toEqual([])
  })

  test('a ref name that cannot be a tag is refused before anything is sent', async () => {
    const builder = await LayoutBuilder.create()
    const image = await builder.image(['x'])
    await builder.writeIndex([{ descriptor: image, name: 'docker.io/library/x:1' }])
    const layout = await readLayout(builder.dir)
    const registry = new MemoryRegistry()
    const error = await pushLayout(layout, registry, selectManifests(layout), []).catch((e: unknown) => e)
    expect((error as LayoutError).message).toMatch(/"docker.io\/library\/x:1" is not a valid tag/)
    expect(registry.requests).toEqual([])
  })

  test('an unnamed manifest with no tags given is pushed by digest only', async () => {
    const builder = await LayoutBuilder.create()
    const image = await builder.image(['x'])
    await builder.writeIndex([{ descriptor: image }])
    const layout = await readLayout(builder.dir)
    const registry = new MemoryRegistry()
    const pushed = await pushLayout(layout, registry, selectManifests(layout), [])
    expect(pushed[0]?.tags).toEqual([])
    expect(registry.requests).toContain(`PUT manifest ${image.digest}`)
    expect(registry.tags.size).toBe(0)
  })

  test('given tags with several roots are refused: which root would they name?', async () => {
    const builder = await LayoutBuilder.create()
    await builder.writeIndex([
      { descriptor: await builder.image(['a']), name: 'a' },
      { descriptor: await builder.image(['b']), name: 'b' },
    ])
    const layout = await readLayout(builder.dir)
    await expect(
      pushLayout(layout, new MemoryRegistry(), selectManifests(layout), ['latest']),
    ).rejects.toThrow(/2 manifests were selected/)
  })

  test('a registry that stores the manifest under another digest is an error, not a silent success', async () => {
    const { layout } = await seedLikeLayout()
    const registry = new MemoryRegistry()
    registry.putManifest = async () => sha256('rewritten by the registry')
    await expect(pushLayout(layout, registry, selectManifests(layout), [])).rejects.toThrow(
      /stored 1.0.0 as sha256:\w+, not as the layout's/,
    )
  })
})
