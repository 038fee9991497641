import { describe, expect, test } from '@jest/globals'
import { rm, writeFile } from 'node:fs/promises'

import { LayoutError, verifyLayout, type Descriptor, type Layout } from '../../../src/oci/layout/index.js'
import { LAYER_GZIP, LayoutBuilder, OCI_MANIFEST } from './layout-fixture.js'
import { sha256Digest as sha256 } from '../../../src/oci/descriptor.js'

const layoutAt = (dir: string, manifests: Descriptor[] = []): Layout => ({
  dir,
  index: { schemaVersion: 2, manifests },
})
const roots = (...descriptors: Descriptor[]) => descriptors.map((descriptor) => ({ descriptor }))

async function refusal(promise: Promise<unknown>): Promise<LayoutError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LayoutError)
  return error as LayoutError
}

describe('verifyLayout', () => {
  test('lists every blob of a nested index once, children before the manifests that reference them', async () => {
    const layout = await LayoutBuilder.create()
    const amd64 = await layout.image(['shared layer', 'amd64 layer'])
    const arm64 = await layout.image(['shared layer', 'arm64 layer'])
    const inner = await layout.index([amd64, arm64])
    const outer = await layout.index([inner])

    const blobs = await verifyLayout(layoutAt(layout.dir), roots(outer))

    const position = (digest: string) => blobs.findIndex((b) => b.descriptor.digest === digest)
    expect(new Set(blobs.map((b) => b.descriptor.digest)).size).toBe(blobs.length)
    // one config both images share, three distinct layers, two manifests, two indexes
    expect(blobs).toHaveLength(8)
    expect(blobs.filter((b) => b.descriptor.mediaType === LAYER_GZIP)).toHaveLength(3)
    expect(blobs.filter((b) => b.isManifest).map((b) => b.descriptor.digest)).toEqual([
      amd64.digest,
      arm64.digest,
      inner.digest,
      outer.digest,
    ])
    expect(position(sha256('amd64 layer'))).toBeLessThan(position(amd64.digest))
    expect(position(sha256('shared layer'))).toBeLessThan(position(arm64.digest))
    expect(blobs.every((b) => b.file === layout.blobFile(b.descriptor.digest))).toBe(true)
  })

  test('a missing layer is refused, naming its file', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['layer one', 'layer two'])
    await rm(layout.blobFile(sha256('layer two')))
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(image)))
    expect(error.file).toBe(layout.blobFile(sha256('layer two')))
    expect(error.message).toMatch(/is missing/)
  })

  test('a layer whose content does not match its digest is refused, naming its file', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['original'])
    await writeFile(layout.blobFile(sha256('original')), 'tampered') // same length, other bytes
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(image)))
    expect(error.file).toBe(layout.blobFile(sha256('original')))
    expect(error.message).toMatch(/does not match its digest/)
  })

  test('a layer of another size than its descriptor says is refused', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['original'])
    await writeFile(layout.blobFile(sha256('original')), 'original plus more')
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(image)))
    expect(error.message).toMatch(/is 18 bytes, but sha256:\w+ is described as 8 bytes/)
  })

  test('a manifest that is not JSON is refused, naming its blob file', async () => {
    const layout = await LayoutBuilder.create()
    const broken = await layout.blob(OCI_MANIFEST, '{"schemaVersion": 2, "layers": [')
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(broken)))
    expect(error.file).toBe(layout.blobFile(broken.digest))
    expect(error.message).toMatch(/not valid JSON/)
  })

  test('a manifest file missing altogether is refused, naming it', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['x'])
    await rm(layout.blobFile(image.digest))
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(image)))
    expect(error.file).toBe(layout.blobFile(image.digest))
  })

  test('a subject in the layout is pushed first; one that is not is left to the registry', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['image layer'])
    const sbom = await layout.image(['sbom'], { subject: image, artifactType: 'application/spdx+json' })
    const outside = { mediaType: OCI_MANIFEST, digest: sha256('elsewhere'), size: 9 }
    const orphan = await layout.image(['signature'], { subject: outside })

    const withSubject = await verifyLayout(layoutAt(layout.dir), roots(sbom))
    const manifests = withSubject.filter((b) => b.isManifest).map((b) => b.descriptor.digest)
    expect(manifests).toEqual([image.digest, sbom.digest])

    const withoutSubject = await verifyLayout(layoutAt(layout.dir), roots(orphan))
    expect(withoutSubject.map((b) => b.descriptor.digest)).not.toContain(outside.digest)
  })

  test('a manifest media type the registry would not take is refused', async () => {
    const layout = await LayoutBuilder.create()
    const odd = await layout.blob('application/vnd.example+json', '{"schemaVersion":2}')
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(odd)))
    expect(error.message).toMatch(/unsupported manifest media type "application\/vnd.example\+json"/)
  })

  test('a manifest whose own mediaType contradicts its descriptor is refused', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['x'])
    const mislabelled = { ...image, mediaType: 'application/vnd.oci.image.index.v1+json' }
    const error = await refusal(verifyLayout(layoutAt(layout.dir), roots(mislabelled)))
    expect(error.message).toMatch(/differs from the descriptor's/)
  })
})
