import type { Descriptor } from '../descriptor.js'
import { isSha256Digest } from './blob-path.js'
import { LayoutError } from './layout-error.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks the fields the layout code relies on (media type, digest, size, string annotations) and
 * returns the descriptor as found, unknown fields included, so re-serialising loses nothing.
 * `where` says which descriptor in `file` is at fault, e.g. "manifests[2]".
 */
export function parseDescriptor(value: unknown, file: string, where: string): Descriptor {
  if (!isRecord(value)) throw new LayoutError(file, `${where} is not a descriptor object`)
  const { mediaType, digest, size, annotations } = value
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new LayoutError(file, `${where} has no mediaType`)
  }
  if (typeof digest !== 'string' || !isSha256Digest(digest)) {
    throw new LayoutError(file, `${where} has an unsupported or malformed digest ${JSON.stringify(digest)}`)
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new LayoutError(file, `${where} has an invalid size ${JSON.stringify(size)}`)
  }
  if (annotations !== undefined) {
    if (!isRecord(annotations) || Object.values(annotations).some((v) => typeof v !== 'string')) {
      throw new LayoutError(file, `${where} has annotations that are not a map of strings`)
    }
  }
  return value as unknown as Descriptor
}

export function parseJsonObject(bytes: Buffer, file: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (cause) {
    throw new LayoutError(file, `not valid JSON (${(cause as Error).message})`, { cause })
  }
  if (!isRecord(value)) throw new LayoutError(file, 'is not a JSON object')
  return value
}
