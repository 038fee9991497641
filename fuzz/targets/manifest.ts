// The registry's and a layout's JSON: parseManifest (a manifest from a registry), parseIndex (a
// layout's index.json) and manifestChildren (a manifest or index in a layout, under each media
// type). Only their own errors may escape, and what they accept has the fields later code relies
// on. The first byte picks manifestChildren's media type.
import { LayoutError } from '../../src/oci/layout/layout-error.js'
import { manifestChildren } from '../../src/oci/layout/manifest-children.js'
import { parseIndex } from '../../src/oci/layout/read-layout.js'
import { buildManifest, InvalidManifestError, parseManifest } from '../../src/oci/manifest.js'
import { MediaType } from '../../src/oci/media-types.js'
import { isValidDigest } from '../../src/oci/reference.js'
import type { Descriptor } from '../../src/oci/descriptor.js'

const MEDIA_TYPES = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
]

function checkDescriptor(d: Descriptor, where: string): void {
  if (typeof d.mediaType !== 'string' || d.mediaType === '')
    throw new Error(`${where}: mediaType ${d.mediaType}`)
  if (typeof d.digest !== 'string' || !isValidDigest(d.digest))
    throw new Error(`${where}: digest ${d.digest}`)
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new Error(`${where}: size ${d.size}`)
}

function expecting<T>(errors: (new (...args: never[]) => Error)[], run: () => T): T | undefined {
  try {
    return run()
  } catch (error) {
    if (errors.some((type) => error instanceof type)) return undefined
    throw error
  }
}

export function fuzz(data: Buffer): void {
  if (data.length === 0) return
  const mediaType = MEDIA_TYPES[(data[0] as number) % MEDIA_TYPES.length] as string
  const json = data.subarray(1)

  const manifest = expecting([InvalidManifestError], () => parseManifest(json))
  if (manifest) {
    checkDescriptor(manifest.config, 'config')
    manifest.layers.forEach((layer, i) => checkDescriptor(layer, `layers[${i}]`))
    // what we read, we can write again, and read back the same layers
    const artifactType = manifest.artifactType || 'application/x-fuzz'
    const rebuilt = expecting([InvalidManifestError], () =>
      buildManifest({ artifactType, config: manifest.config, layers: manifest.layers }),
    )
    if (rebuilt) {
      const again = parseManifest(rebuilt.bytes)
      if (
        JSON.stringify(again.layers.map((l) => l.digest)) !==
        JSON.stringify(manifest.layers.map((l) => l.digest))
      )
        throw new Error('the rebuilt manifest lists other layers')
    }
  }

  const index = expecting([LayoutError], () => parseIndex(json, 'index.json'))
  index?.manifests.forEach((m, i) => checkDescriptor(m, `manifests[${i}]`))

  const children = expecting([LayoutError], () => manifestChildren(json, mediaType, 'blobs/sha256/x'))
  if (children) {
    ;[...children.manifests, ...children.blobs].forEach((d, i) => checkDescriptor(d, `child ${i}`))
    if (children.subject) checkDescriptor(children.subject, 'subject')
  }
}
