import type { Descriptor } from '../oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG, parseManifest, type BuiltManifest } from '../oci/manifest.js'
import { MediaType } from '../oci/media-types.js'
import {
  CACHE_ARTIFACT_TYPE,
  CREATED_ANNOTATION,
  KEY_ANNOTATION,
  SCOPE_ANNOTATION,
} from './cache-annotations.js'

export interface CacheManifestFields {
  scope: string
  key: string
  /** RFC 3339 time of the save */
  created: string
  /** The tar+zstd layer of the cached directory */
  layer: Descriptor
}

/** The manifest of one saved cache: the empty config, one tar+zstd layer, the key in full. */
export function buildCacheManifest(o: CacheManifestFields): BuiltManifest {
  return buildManifest({
    artifactType: CACHE_ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: [o.layer],
    annotations: { [KEY_ANNOTATION]: o.key, [SCOPE_ANNOTATION]: o.scope, [CREATED_ANNOTATION]: o.created },
  })
}

export class NotACacheError extends Error {
  constructor(reference: string, reason: string) {
    super(`${reference} is not a cache saved by this action: ${reason}`)
    this.name = 'NotACacheError'
  }
}

/**
 * The layer of a fetched cache manifest, after checking it is ours and holds `key`: a tag is a
 * hash of the key, so the key annotation is what proves a tag (or an index entry) means it.
 */
export function cacheLayerOf(bytes: Buffer, key: string, reference: string): Descriptor {
  const manifest = parseManifest(bytes)
  if (manifest.artifactType !== CACHE_ARTIFACT_TYPE) {
    throw new NotACacheError(reference, `artifactType is ${manifest.artifactType ?? 'missing'}`)
  }
  const saved = manifest.annotations?.[KEY_ANNOTATION]
  if (saved !== key) throw new NotACacheError(reference, `it holds key '${saved ?? ''}', not '${key}'`)
  const [layer] = manifest.layers
  if (manifest.layers.length !== 1 || !layer || layer.mediaType !== MediaType.LayerTarZstd) {
    throw new NotACacheError(reference, 'it does not have exactly one tar+zstd layer')
  }
  return layer
}
