import type { Descriptor } from '../oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG, parseManifest, type BuiltManifest } from '../oci/manifest.js'
import { MediaType } from '../oci/media-types.js'
import {
  CACHE_ARTIFACT_TYPE,
  CREATED_ANNOTATION,
  KEY_ANNOTATION,
  PATH_ANNOTATION,
  SCOPE_ANNOTATION,
  VERSION_ANNOTATION,
} from './cache-annotations.js'
import { CHUNK_MAP_MEDIA_TYPE, CHUNKED_FORMAT, FORMAT_ANNOTATION } from './chunks/chunk-map.js'

export interface CacheManifestFields {
  scope: string
  key: string
  /** RFC 3339 time of the save */
  created: string
  /** The tar+zstd layers, one per path (each annotated with its path line) */
  layers: Descriptor[]
  /** cacheVersion() of the path lines */
  version?: string
  /** A chunked cache: its chunk map (the config) and format annotation (chunks/chunk-map.ts) */
  chunkMap?: Descriptor
}

/** The manifest of one saved cache: the empty config, one tar+zstd layer, the key in full. */
export function buildCacheManifest(o: CacheManifestFields): BuiltManifest {
  return buildManifest({
    artifactType: CACHE_ARTIFACT_TYPE,
    config: o.chunkMap ?? EMPTY_CONFIG,
    layers: o.layers,
    annotations: {
      ...(o.chunkMap ? { [FORMAT_ANNOTATION]: CHUNKED_FORMAT } : {}),
      [KEY_ANNOTATION]: o.key,
      [SCOPE_ANNOTATION]: o.scope,
      [CREATED_ANNOTATION]: o.created,
      ...(o.version === undefined ? {} : { [VERSION_ANNOTATION]: o.version }),
    },
  })
}

export class NotACacheError extends Error {
  constructor(reference: string, reason: string) {
    super(`${reference} is not a cache saved by this action: ${reason}`)
    this.name = 'NotACacheError'
  }
}

/**
 * The layers of a fetched cache manifest, after checking it is ours and holds `key` (and, when
 * given, the paths' `version`): a tag is a hash of the key, so the key annotation is what proves
 * a tag (or an index entry) means it. Each layer is tar+zstd and names its path line.
 */
export function cacheLayersOf(bytes: Buffer, key: string, reference: string, version?: string): Descriptor[] {
  const contents = cacheContentsOf(bytes, key, reference, version)
  if (contents.format !== 'layers') throw new NotACacheError(reference, 'it is a chunked cache')
  return contents.layers
}

/** What a cache manifest holds: one tar+zstd layer per path, or chunks and their map. */
export type CacheContents =
  | { format: 'layers'; layers: Descriptor[] }
  | { format: 'chunked'; chunkMap: Descriptor; layers: Descriptor[] }

/**
 * cacheLayersOf's checks, for either format. A chunked cache is told by its format annotation
 * (and its config, the chunk map); its layers and map are checked by chunks/chunk-map.ts.
 */
export function cacheContentsOf(
  bytes: Buffer,
  key: string,
  reference: string,
  version?: string,
): CacheContents {
  const manifest = parseManifest(bytes)
  if (manifest.artifactType !== CACHE_ARTIFACT_TYPE) {
    throw new NotACacheError(reference, `artifactType is ${manifest.artifactType ?? 'missing'}`)
  }
  const saved = manifest.annotations?.[KEY_ANNOTATION]
  if (saved !== key) throw new NotACacheError(reference, `it holds key '${saved ?? ''}', not '${key}'`)
  const savedVersion = manifest.annotations?.[VERSION_ANNOTATION]
  if (version !== undefined && savedVersion !== version) {
    throw new NotACacheError(reference, 'it was saved for other paths')
  }
  if (manifest.layers.length === 0) throw new NotACacheError(reference, 'it has no layers')
  const format = manifest.annotations?.[FORMAT_ANNOTATION]
  if (format === CHUNKED_FORMAT) {
    if (manifest.config.mediaType !== CHUNK_MAP_MEDIA_TYPE)
      throw new NotACacheError(reference, 'its config is not a chunk map')
    return { format: 'chunked', chunkMap: manifest.config, layers: manifest.layers }
  }
  if (format !== undefined)
    throw new NotACacheError(reference, `its format ${format} is unknown to this version`)
  for (const layer of manifest.layers) {
    if (layer.mediaType !== MediaType.LayerTarZstd || !layer.annotations?.[PATH_ANNOTATION]) {
      throw new NotACacheError(reference, 'a layer is not a tar+zstd layer naming its path')
    }
  }
  return { format: 'layers', layers: manifest.layers }
}
