import type { Descriptor } from './descriptor.js'
import { sha256Digest } from './descriptor.js'
import { isIndexMediaType, MediaType } from './media-types.js'
import { isValidDigest } from './reference.js'

// OCI image spec v1.1 "guidance for an empty descriptor": the two bytes "{}", inlined as base64.
export const EMPTY_CONFIG: Descriptor = Object.freeze({
  mediaType: MediaType.OciEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
})

export interface ImageManifest {
  schemaVersion: 2
  mediaType: string
  artifactType?: string
  config: Descriptor
  layers: Descriptor[]
  subject?: Descriptor
  annotations?: Record<string, string>
}

export interface BuiltManifest {
  bytes: Buffer
  mediaType: string
  digest: string
}

export class InvalidManifestError extends Error {
  /** What is wrong, without the prefix: callers that name a file (a layout's blob) reword it. */
  readonly reason: string
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid manifest: ${reason}`, options)
    this.name = 'InvalidManifestError'
    this.reason = reason
  }
}

// Deterministic bytes: fields in a fixed order and annotations sorted, so the same inputs always
// produce the same digest (a cache key can then be compared by digest alone).
export function buildManifest(o: {
  artifactType?: string
  config?: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}): BuiltManifest {
  const config = o.config ?? EMPTY_CONFIG
  // OCI v1.1: a manifest whose config is the empty descriptor must say what it is in artifactType.
  if (config.mediaType === MediaType.OciEmpty && !o.artifactType) {
    throw new InvalidManifestError('an artifact with the empty config needs an artifactType')
  }
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.OciManifest }
  if (o.artifactType) manifest.artifactType = o.artifactType
  manifest.config = canonicalDescriptor(config)
  manifest.layers = o.layers.map(canonicalDescriptor)
  if (o.annotations && Object.keys(o.annotations).length > 0) manifest.annotations = sorted(o.annotations)
  const bytes = Buffer.from(JSON.stringify(manifest), 'utf8')
  return { bytes, mediaType: MediaType.OciManifest, digest: sha256Digest(bytes) }
}

/**
 * A manifest or an index, read and checked: every descriptor in it has a media type, a digest of
 * the reference grammar and a safe size, so no caller trusts a cast.
 */
export interface ManifestDocument {
  mediaType: string
  artifactType?: string
  /** The document's own annotations; values that are not strings are left out. */
  annotations: Record<string, string>
  /** An index's entries (manifests or indexes); empty for an image manifest. */
  manifests: Descriptor[]
  /** An image manifest's config; undefined for an index. */
  config?: Descriptor
  /** An image manifest's layers; empty for an index. */
  layers: Descriptor[]
  /** The manifest this one refers to (OCI 1.1 referrers), which may live elsewhere. */
  subject?: Descriptor
}

/** What a manifest or index references, as oras-go's content.Successors lists it. */
export interface ManifestChildren {
  /** Manifests or indexes this one lists (an index's manifests[]). */
  manifests: Descriptor[]
  /** Plain blobs: an image manifest's config and layers. */
  blobs: Descriptor[]
  subject: Descriptor | undefined
}

// The manifest kinds a registry accepts and that skopeo, buildah, oras and containerd write.
const IMAGE_MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest])

/**
 * The one reader of manifests and indexes, for pull, layouts, prune and the cache index alike.
 * `mediaType` is what the descriptor or the response said; the document's own field must agree.
 * Without it the document's field decides, else its shape (an index has manifests, no layers).
 */
export function readManifest(bytes: Buffer, mediaType?: string): ManifestDocument {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (cause) {
    throw new InvalidManifestError(`not valid JSON (${(cause as Error).message})`, { cause })
  }
  if (!isObject(value)) throw new InvalidManifestError('is not a JSON object')
  const own = typeof value.mediaType === 'string' ? value.mediaType : undefined
  if (mediaType !== undefined && own !== undefined && own !== mediaType) {
    throw new InvalidManifestError(
      `mediaType ${JSON.stringify(own)} differs from the descriptor's ${JSON.stringify(mediaType)}`,
    )
  }
  if (value.schemaVersion !== 2) {
    throw new InvalidManifestError(`schemaVersion is ${JSON.stringify(value.schemaVersion)}, expected 2`)
  }
  const shape =
    Array.isArray(value.manifests) && !('layers' in value) ? MediaType.OciIndex : MediaType.OciManifest
  const type = mediaType ?? own ?? shape
  const doc: ManifestDocument = {
    mediaType: type,
    annotations: stringValues(value.annotations),
    manifests: [],
    layers: [],
  }
  if (typeof value.artifactType === 'string') doc.artifactType = value.artifactType
  if (value.subject !== undefined) doc.subject = checkDescriptor(value.subject, 'subject')
  if (isIndexMediaType(type)) {
    if (!Array.isArray(value.manifests))
      throw new InvalidManifestError('is an index without a manifests array')
    doc.manifests = value.manifests.map((m, i) => checkDescriptor(m, `manifests[${i}]`))
    return doc
  }
  if (!IMAGE_MANIFEST_TYPES.has(type)) {
    throw new InvalidManifestError(`has the unsupported manifest media type ${JSON.stringify(type)}`)
  }
  doc.config = checkDescriptor(value.config, 'config')
  if (!Array.isArray(value.layers)) throw new InvalidManifestError('is a manifest without a layers array')
  doc.layers = value.layers.map((l, i) => checkDescriptor(l, `layers[${i}]`))
  return doc
}

/** Its successors: the manifests an index lists, or an image manifest's config and layers. */
export function manifestChildren(doc: ManifestDocument): ManifestChildren {
  const blobs = doc.config ? [doc.config, ...doc.layers] : []
  return { manifests: doc.manifests, blobs, subject: doc.subject }
}

/** An OCI or Docker v2 image manifest; an index or anything malformed is refused. */
export function parseManifest(bytes: Buffer): ImageManifest {
  const doc = readManifest(bytes)
  if (!doc.config) throw new InvalidManifestError(`media type ${doc.mediaType} is not an image manifest`)
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: doc.mediaType,
    config: doc.config,
    layers: doc.layers,
  }
  if (doc.artifactType !== undefined) manifest.artifactType = doc.artifactType
  if (doc.subject) manifest.subject = doc.subject
  if (Object.keys(doc.annotations).length > 0) manifest.annotations = doc.annotations
  return manifest
}

/**
 * Checks the fields everything relies on (media type, digest, size, string annotations) and
 * returns the descriptor as found, unknown fields included, so re-serialising loses nothing.
 */
function checkDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new InvalidManifestError(`${where} is not a descriptor object`)
  const { mediaType, digest, size, annotations } = value
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new InvalidManifestError(`${where} has no mediaType`)
  }
  if (typeof digest !== 'string' || !isValidDigest(digest)) {
    throw new InvalidManifestError(
      `${where} has an unsupported or malformed digest ${JSON.stringify(digest)}`,
    )
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidManifestError(`${where} has an invalid size ${JSON.stringify(size)}`)
  }
  if (annotations !== undefined) {
    if (!isObject(annotations) || Object.values(annotations).some((v) => typeof v !== 'string')) {
      throw new InvalidManifestError(`${where} has annotations that are not a map of strings`)
    }
  }
  return value as unknown as Descriptor
}

function stringValues(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!isObject(value)) return out
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v
  return out
}

function canonicalDescriptor(d: Descriptor): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: d.mediaType }
  if (d.artifactType) out.artifactType = d.artifactType
  out.digest = d.digest
  out.size = d.size
  if (d.urls && d.urls.length > 0) out.urls = [...d.urls]
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = sorted(d.annotations)
  if (d.data !== undefined) out.data = d.data
  if (d.platform) out.platform = d.platform
  return out
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
