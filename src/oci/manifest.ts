import type { Descriptor } from './descriptor.js'
import { sha256Digest } from './descriptor.js'
import { MediaType } from './media-types.js'
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
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid manifest: ${reason}`, options)
    this.name = 'InvalidManifestError'
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

// Reads an OCI or Docker v2 image manifest; an index or anything malformed is refused.
export function parseManifest(bytes: Buffer): ImageManifest {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new InvalidManifestError('not JSON', { cause: error })
  }
  if (!isObject(value) || value.schemaVersion !== 2) throw new InvalidManifestError('schemaVersion is not 2')
  const mediaType = typeof value.mediaType === 'string' ? value.mediaType : MediaType.OciManifest
  if (mediaType !== MediaType.OciManifest && mediaType !== MediaType.DockerManifest) {
    throw new InvalidManifestError(`media type ${mediaType} is not an image manifest`)
  }
  if (!Array.isArray(value.layers)) throw new InvalidManifestError('layers is missing')
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: checkDescriptor(value.config, 'config'),
    layers: value.layers.map((layer, i) => checkDescriptor(layer, `layers[${i}]`)),
  }
  if (typeof value.artifactType === 'string') manifest.artifactType = value.artifactType
  if (value.subject !== undefined) manifest.subject = checkDescriptor(value.subject, 'subject')
  if (isObject(value.annotations)) manifest.annotations = value.annotations as Record<string, string>
  return manifest
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new InvalidManifestError(`${where} is not a descriptor`)
  const { mediaType, digest, size } = value
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new InvalidManifestError(`${where} has no mediaType`)
  }
  if (typeof digest !== 'string' || !isValidDigest(digest)) {
    throw new InvalidManifestError(`${where} has an invalid digest ${JSON.stringify(digest)}`)
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidManifestError(`${where} has an invalid size ${JSON.stringify(size)}`)
  }
  return value as unknown as Descriptor
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
