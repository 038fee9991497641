import type { Descriptor } from './descriptor-shape.js'
import { LayoutError } from './layout-error.js'
import { parseDescriptor, parseJsonObject } from './parse-descriptor.js'

// The manifest kinds a registry accepts and that skopeo, buildah, oras and containerd write.
export const IMAGE_MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
])
export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
])

export function isManifestMediaType(mediaType: string): boolean {
  return IMAGE_MANIFEST_TYPES.has(mediaType) || INDEX_TYPES.has(mediaType)
}

// Distribution refuses manifests above 4 MiB, so a larger one could never be pushed; the cap also
// bounds memory, since a manifest is parsed whole.
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export interface ManifestChildren {
  /** Manifests or indexes this one lists (an index's manifests[]). */
  manifests: Descriptor[]
  /** Plain blobs: an image manifest's config and layers. */
  blobs: Descriptor[]
  /** The manifest this one refers to (OCI 1.1 referrers), which may live outside the layout. */
  subject: Descriptor | undefined
}

/** Parses a manifest or index and lists what it references. `file` is named in every error. */
export function manifestChildren(bytes: Buffer, mediaType: string, file: string): ManifestChildren {
  const json = parseJsonObject(bytes, file)
  if (json.mediaType !== undefined && json.mediaType !== mediaType) {
    throw new LayoutError(
      file,
      `mediaType ${JSON.stringify(json.mediaType)} differs from the descriptor's ${JSON.stringify(mediaType)}`,
    )
  }
  if (json.schemaVersion !== 2) {
    throw new LayoutError(file, `schemaVersion is ${JSON.stringify(json.schemaVersion)}, expected 2`)
  }
  const subject = json.subject === undefined ? undefined : parseDescriptor(json.subject, file, 'subject')

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(json.manifests)) throw new LayoutError(file, 'is an index without a manifests array')
    const manifests = json.manifests.map((m, i) => parseDescriptor(m, file, `manifests[${i}]`))
    return { manifests, blobs: [], subject }
  }
  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    const config = parseDescriptor(json.config, file, 'config')
    if (!Array.isArray(json.layers)) throw new LayoutError(file, 'is a manifest without a layers array')
    const layers = json.layers.map((l, i) => parseDescriptor(l, file, `layers[${i}]`))
    return { manifests: [], blobs: [config, ...layers], subject }
  }
  throw new LayoutError(file, `has the unsupported manifest media type ${JSON.stringify(mediaType)}`)
}
