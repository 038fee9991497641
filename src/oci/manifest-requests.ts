import { createHash } from 'node:crypto'
import type { Descriptor } from './descriptor.js'
import { digestAlgorithm, sha256Digest } from './descriptor.js'
import {
  DigestMismatchError,
  GENERIC_HINTS,
  RegistryError,
  checkResponse,
  responseError,
  type RegistryHints,
} from './errors.js'
import type { Logger } from './logger.js'
import { MANIFEST_MEDIA_TYPES } from './media-types.js'
import { isValidDigest, isValidTag } from './reference.js'
import { discardBody, readBody } from './response-body.js'
import type { Send } from './transport/send.js'

// The distribution spec lets registries refuse manifests over 4 MiB, and ghcr.io does: nothing
// bigger is a manifest we should buffer.
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export interface ManifestContext {
  send: Send
  // https://host/v2/<name>/manifests
  manifestsUrl: string
  logger: Logger
  // the caller's words for a refused delete (a registry's own way of deleting, say)
  hints?: RegistryHints
}

const ACCEPT = MANIFEST_MEDIA_TYPES.join(', ')

export async function putManifest(
  c: ManifestContext,
  bytes: Buffer,
  mediaType: string,
  tagOrDigest: string,
): Promise<string> {
  checkReference(tagOrDigest)
  const digest = sha256Digest(bytes)
  if (isValidDigest(tagOrDigest)) {
    const actual = digestOf(bytes, tagOrDigest)
    if (actual !== tagOrDigest) throw new DigestMismatchError(tagOrDigest, actual, 'the manifest')
  }
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new Error(`the manifest is ${bytes.length} bytes; registries accept at most ${MAX_MANIFEST_BYTES}`)
  }
  const res = await c.send({
    method: 'PUT',
    url: `${c.manifestsUrl}/${tagOrDigest}`,
    headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    body: () => bytes,
  })
  await checkResponse(res, 201, 200, 204)
  await discardBody(res)
  const stored = res.headers.get('docker-content-digest')
  if (stored && stored.startsWith('sha256:') && stored !== digest) {
    c.logger.warning(`the registry stored the manifest as ${stored}, not as the ${digest} of the bytes sent`)
  }
  return digest
}

export async function getManifest(
  c: ManifestContext,
  tagOrDigest: string,
): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  checkReference(tagOrDigest)
  const res = await checkResponse(
    await c.send({ method: 'GET', url: `${c.manifestsUrl}/${tagOrDigest}`, headers: { accept: ACCEPT } }),
    200,
  )
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, { what: `manifest ${tagOrDigest}` })
  // By digest, the bytes must hash to it; by tag, to what the registry says it served (when it says).
  const claimed = isValidDigest(tagOrDigest)
    ? tagOrDigest
    : res.headers.get('docker-content-digest') || undefined
  const digest = claimed && isValidDigest(claimed) ? digestOf(bytes, claimed) : sha256Digest(bytes)
  if (claimed && isValidDigest(claimed) && digest !== claimed) {
    throw new DigestMismatchError(claimed, digest, `manifest ${tagOrDigest}`)
  }
  return { bytes, mediaType: mediaTypeOf(res.headers.get('content-type'), bytes), digest }
}

// Cheap lookup: a HEAD answers with the digest, size and type and no body; 404 means no such manifest.
export async function headManifest(c: ManifestContext, tagOrDigest: string): Promise<Descriptor | undefined> {
  checkReference(tagOrDigest)
  const res = await c.send({
    method: 'HEAD',
    url: `${c.manifestsUrl}/${tagOrDigest}`,
    headers: { accept: ACCEPT },
  })
  await discardBody(res)
  if (res.status === 404) return undefined
  await checkResponse(res, 200)
  const digest = res.headers.get('docker-content-digest')
  const size = Number(res.headers.get('content-length') ?? NaN)
  const contentType = res.headers.get('content-type')?.split(';')[0]?.trim()
  if (
    !digest ||
    !isValidDigest(digest) ||
    !Number.isSafeInteger(size) ||
    !contentType ||
    !isManifestType(contentType)
  ) {
    // Not every registry fills in the headers of a HEAD: the GET tells all.
    const m = await getManifest(c, tagOrDigest)
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }
  }
  if (isValidDigest(tagOrDigest) && digest !== tagOrDigest) {
    throw new DigestMismatchError(tagOrDigest, digest, `manifest ${tagOrDigest}`)
  }
  return { mediaType: contentType, digest, size }
}

/**
 * Deletes a manifest by digest (the distribution spec deletes by digest only); the registry drops
 * every tag that named it. A manifest already gone counts as deleted.
 */
export async function deleteManifest(c: ManifestContext, digest: string): Promise<void> {
  if (!isValidDigest(digest)) throw new Error(`"${digest}" is not a valid digest`)
  const res = await c.send({ method: 'DELETE', url: `${c.manifestsUrl}/${digest}`, headers: {} })
  if (res.status === 202 || res.status === 200 || res.status === 204) return discardBody(res)
  const error = await responseError(res)
  if (res.status === 404 && error.hasCode('MANIFEST_UNKNOWN')) return
  // what a refusal to delete means to the user: a registry may simply not offer deletes
  if (res.status === 405 || error.hasCode('UNSUPPORTED')) {
    throw withHint(error, c.hints?.deleteUnsupported ?? GENERIC_HINTS.deleteUnsupported)
  }
  if (res.status === 401 || res.status === 403 || error.hasCode('DENIED')) {
    throw withHint(error, c.hints?.deleteDenied ?? GENERIC_HINTS.deleteDenied)
  }
  throw error
}

function withHint(error: RegistryError, hint: string): RegistryError {
  return new RegistryError({
    method: error.method,
    url: error.url,
    status: error.status,
    codes: error.codes,
    hint,
    cause: error.cause,
  })
}

function checkReference(tagOrDigest: string): void {
  if (!isValidTag(tagOrDigest) && !isValidDigest(tagOrDigest)) {
    throw new Error(`"${tagOrDigest}" is neither a valid tag nor a valid digest`)
  }
}

function digestOf(bytes: Buffer, like: string): string {
  const algorithm = digestAlgorithm(like)
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`
}

function isManifestType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType)
}

// The Content-Type when it names a manifest type; else the document's own mediaType field.
function mediaTypeOf(contentType: string | null, bytes: Buffer): string {
  const type = contentType?.split(';')[0]?.trim()
  if (type && isManifestType(type)) return type
  try {
    const field = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType
    if (typeof field === 'string' && field) return field
  } catch {
    // not JSON: the content type is all we have
  }
  return type ?? 'application/octet-stream'
}
