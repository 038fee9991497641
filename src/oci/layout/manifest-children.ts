import type { Descriptor } from '../descriptor.js'
import { isIndexMediaType, MediaType } from '../media-types.js'
import { LayoutError } from './layout-error.js'
import { parseDescriptor, parseJsonObject } from './parse-descriptor.js'

// The manifest kinds a registry accepts and that skopeo, buildah, oras and containerd write.
const IMAGE_MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest])

// The registry client's cap: a larger manifest could never be pushed, and it bounds memory here too.
export { MAX_MANIFEST_BYTES } from '../manifest-requests.js'

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

  if (isIndexMediaType(mediaType)) {
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
