import { describe, expect, test } from '@jest/globals'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

import {
  LayoutError,
  pullToLayout,
  pushLayout,
  readLayout,
  selectManifests,
  verifyLayout,
  type Descriptor,
} from '../../../src/oci/layout/index.js'
import { LayoutBuilder, REF_NAME, tempDir } from './layout-fixture.js'
import { sha256Digest as sha256 } from '../../../src/oci/descriptor.js'
import { MemoryRegistry } from '../../helpers/memory-registry.js'

/** A registry holding what a layout holds, pushed by the code under test's sibling. */
async function registryWith(
  build: (b: LayoutBuilder) => Promise<{ descriptor: Descriptor; name?: string }[]>,
) {
  const builder = await LayoutBuilder.create()
  await builder.writeIndex(await build(builder))
  const layout = await readLayout(builder.dir)
  const registry = new MemoryRegistry()
  await pushLayout(layout, registry, selectManifests(layout), [])
  registry.requests.length = 0
  return { registry, builder }
}

const refNames = async (dir: string) =>
  (await readLayout(dir)).index.manifests.map((m) => [m.annotations?.[REF_NAME], m.digest])

describe('pullToLayout', () => {
  test('writes a layout that reads and verifies, every file byte-identical to the source layout', async () => {
    let image!: Descriptor
    const { registry, builder } = await registryWith(async (b) => {
      image = await b.image(['layer one', 'layer two'])
      return [{ descriptor: image, name: '1.0.0' }]
    })
    const dir = path.join(await tempDir(), 'pulled')

    const pulled = await pullToLayout(registry, '1.0.0', dir)

    expect(pulled).toMatchObject({
      digest: image.digest,
      size: image.size,
      refName: '1.0.0',
      blobs: 4,
      reusedBlobs: 0,
    })
    expect(JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    })
    const layout = await readLayout(dir)
    expect(layout.index.manifests).toEqual([{ ...image, annotations: { [REF_NAME]: '1.0.0' } }])
    const blobs = await verifyLayout(layout, selectManifests(layout, '1.0.0'))
    for (const { descriptor, file } of blobs) {
      expect((await readFile(file)).equals(await readFile(builder.blobFile(descriptor.digest)))).toBe(true)
    }
    expect((await readdir(path.join(dir, 'blobs', 'sha256'))).sort()).toEqual(
      blobs.map((b) => b.descriptor.digest.slice(7)).sort(),
    )
  })

  test('follows nested indexes down to every layer', async () => {
    let outer!: Descriptor
    const { registry } = await registryWith(async (b) => {
      outer = await b.index([await b.index([await b.image(['amd64']), await b.image(['arm64'])])])
      return [{ descriptor: outer, name: 'multi' }]
    })
    const dir = await tempDir()
    const pulled = await pullToLayout(registry, outer.digest, dir, { refName: 'multi' })
    expect(pulled.blobs).toBe(2 + 2 + 1 + 2) // indexes, manifests, the config both share, layers
    const layout = await readLayout(dir)
    expect(await verifyLayout(layout, selectManifests(layout, 'multi'))).toHaveLength(pulled.blobs)
  })

  test('adds to a layout already there, replacing only the entry of the same ref name', async () => {
    const { registry } = await registryWith(async (b) => [
      { descriptor: await b.image(['v1']), name: 'v1' },
      { descriptor: await b.image(['v2']), name: 'v2' },
    ])
    const dir = await tempDir()
    await pullToLayout(registry, 'v1', dir)
    await pullToLayout(registry, 'v2', dir)
    const v1Again = await pullToLayout(registry, 'v2', dir, { refName: 'v1' })

    expect(await refNames(dir)).toEqual([
      ['v2', registry.tags.get('v2')],
      ['v1', registry.tags.get('v2')],
    ])
    expect(v1Again.reusedBlobs).toBe(v1Again.blobs)
    expect(registry.requests.filter((c) => c.startsWith('GET blob'))).toHaveLength(3) // the config v1 and v2 share, and each one's layer, once
  })

  test('a pull by digest records no ref name, and pulling it again does not add a second entry', async () => {
    const { registry } = await registryWith(async (b) => [
      { descriptor: await b.image(['layer']), name: 'x' },
    ])
    const digest = registry.tags.get('x') as string
    const dir = await tempDir()
    await pullToLayout(registry, 'x', dir)
    const pulled = await pullToLayout(registry, digest, dir)
    await pullToLayout(registry, digest, dir)
    expect(pulled.refName).toBeUndefined()
    expect(await refNames(dir)).toEqual([
      ['x', digest],
      [undefined, digest],
    ])
  })

  test('a blob that does not match its digest never lands under it, and index.json is not touched', async () => {
    let image!: Descriptor
    const { registry } = await registryWith(async (b) => {
      image = await b.image(['good layer'])
      return [{ descriptor: image, name: 'x' }]
    })
    registry.corruptBlob(sha256('good layer'), Buffer.from('evil layer'))
    const dir = await tempDir()

    const error = await pullToLayout(registry, 'x', dir).catch((e: unknown) => e)

    expect(error).toBeInstanceOf(LayoutError)
    expect((error as LayoutError).message).toMatch(/does not match its descriptor/)
    const files = await readdir(path.join(dir, 'blobs', 'sha256'))
    expect(files).not.toContain(sha256('good layer').slice(7))
    expect(files.filter((f) => f.startsWith('.tmp'))).toEqual([])
    expect(await readdir(dir)).not.toContain('index.json')
  })

  test('a blob on disk that was corrupted is downloaded again rather than trusted', async () => {
    const { registry } = await registryWith(async (b) => [
      { descriptor: await b.image(['layer']), name: 'x' },
    ])
    const dir = await tempDir()
    await pullToLayout(registry, 'x', dir)
    const layerFile = path.join(dir, 'blobs', 'sha256', sha256('layer').slice(7))
    await writeFile(layerFile, 'LAYER')
    let plan: { downloadBytes: number; downloadBlobs: number; reusedBlobs: number } | undefined
    const again = await pullToLayout(registry, 'x', dir, { onStart: (p) => (plan = p) })
    expect(await readFile(layerFile, 'utf8')).toBe('layer')
    expect(again.reusedBlobs).toBe(again.blobs - 1)
    expect(plan).toMatchObject({ downloadBytes: 5, downloadBlobs: 1, reusedBlobs: 1 }) // the layer; the config kept
    expect(again.downloadedBytes).toBe(5)
  })

  test('a broken layout already at the destination is reported before anything is fetched', async () => {
    const { registry } = await registryWith(async (b) => [
      { descriptor: await b.image(['layer']), name: 'x' },
    ])
    const dir = await tempDir()
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
    await writeFile(path.join(dir, 'index.json'), 'not json')
    const error = await pullToLayout(registry, 'x', dir).catch((e: unknown) => e)
    expect((error as LayoutError).file).toBe(path.join(dir, 'index.json'))
    expect(registry.requests).toEqual([])
  })

  test('an index.json that is not part of a layout is left alone', async () => {
    const { registry } = await registryWith(async (b) => [
      { descriptor: await b.image(['layer']), name: 'x' },
    ])
    const dir = await tempDir()
    await writeFile(path.join(dir, 'index.json'), '{"my": "web app"}')
    const error = await pullToLayout(registry, 'x', dir).catch((e: unknown) => e)
    expect((error as LayoutError).message).toMatch(/oci-layout does not/)
    expect(await readFile(path.join(dir, 'index.json'), 'utf8')).toBe('{"my": "web app"}')
    expect(registry.requests).toEqual([])
  })

  test('a pulled layout pushes back with the same digest', async () => {
    let image!: Descriptor
    const { registry } = await registryWith(async (b) => {
      image = await b.image(['round trip'])
      return [{ descriptor: image, name: 'rt' }]
    })
    const dir = await tempDir()
    await pullToLayout(registry, 'rt', dir)
    const layout = await readLayout(dir)
    const other = new MemoryRegistry()
    const [pushed] = await pushLayout(layout, other, selectManifests(layout), [])
    expect(pushed?.digest).toBe(image.digest)
    expect(other.tags.get('rt')).toBe(image.digest)
  })
})
