import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'

import { Annotation } from '../annotations.js'
import type { Descriptor } from '../descriptor.js'
import { InvalidManifestError, manifestChildren, readManifest, type ManifestChildren } from '../manifest.js'
import { isIndexMediaType, MediaType } from '../media-types.js'
import { LayoutError } from './layout-error.js'

// The only version of the image layout spec there is (image-spec v1.0 and v1.1 both write 1.0.0).
export const IMAGE_LAYOUT_VERSION = '1.0.0'
export const REF_NAME_ANNOTATION = Annotation.RefName

// index.json is JSON read whole; this cap (the size limit Distribution puts on a manifest) keeps
// a hostile or mistaken multi-gigabyte file from being loaded into memory.
export const MAX_INDEX_BYTES = 4 * 1024 * 1024

/** index.json as read: schemaVersion 2 and its manifests, every other field kept as found. */
export interface LayoutIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
  [field: string]: unknown
}

export interface Layout {
  dir: string
  index: LayoutIndex
}

/** The size of a regular file, or undefined when there is none at that path. */
export async function fileSizeOf(file: string): Promise<number | undefined> {
  try {
    const info = await stat(file)
    return info.isFile() ? info.size : undefined
  } catch {
    return undefined
  }
}

/** What `format: auto` asks: does this folder look like an OCI image layout (it may still be broken). */
export async function isLayout(dir: string): Promise<boolean> {
  const sizes = await Promise.all([
    fileSizeOf(path.join(dir, 'oci-layout')),
    fileSizeOf(path.join(dir, 'index.json')),
  ])
  return sizes.every((size) => size !== undefined)
}

export async function readSmallFile(file: string, limit: number): Promise<Buffer> {
  let size: number
  try {
    size = (await stat(file)).size
  } catch (cause) {
    throw new LayoutError(file, 'is missing', { cause })
  }
  if (size > limit) throw new LayoutError(file, `is ${size} bytes, more than the ${limit} allowed`)
  return readFile(file)
}

export async function readLayoutMarker(dir: string): Promise<void> {
  const file = path.join(dir, 'oci-layout')
  const marker = parseJsonObject(await readSmallFile(file, 64 * 1024), file)
  if (marker.imageLayoutVersion !== IMAGE_LAYOUT_VERSION) {
    throw new LayoutError(
      file,
      `imageLayoutVersion is ${JSON.stringify(marker.imageLayoutVersion)}, expected "${IMAGE_LAYOUT_VERSION}"`,
    )
  }
}

export function parseIndex(bytes: Buffer, file: string): LayoutIndex {
  const index = parseJsonObject(bytes, file)
  const own = typeof index.mediaType === 'string' ? index.mediaType : MediaType.OciIndex
  if (!isIndexMediaType(own)) throw new LayoutError(file, `mediaType ${JSON.stringify(own)} is not an index`)
  layoutManifest(bytes, own, file)
  return index as LayoutIndex
}

/** What a manifest or index of the layout references; `file` is named in every error. */
export function layoutManifest(bytes: Buffer, mediaType: string, file: string): ManifestChildren {
  try {
    return manifestChildren(readManifest(bytes, mediaType))
  } catch (error) {
    if (error instanceof InvalidManifestError) throw new LayoutError(file, error.reason, { cause: error })
    throw error
  }
}

// Only sha256 is accepted: it is what registries and the image spec require of every implementation,
// and the strict pattern is also what keeps a digest from naming a path outside blobs/.
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/

export function isSha256Digest(digest: string): boolean {
  return SHA256_DIGEST.test(digest)
}

/** Where the image spec puts a blob: blobs/<algorithm>/<encoded>. `file` names who referenced it. */
export function blobPath(layoutDir: string, digest: string, referencedFrom: string): string {
  if (!isSha256Digest(digest)) {
    throw new LayoutError(referencedFrom, `unsupported or malformed digest ${JSON.stringify(digest)}`)
  }
  return path.join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length))
}

function parseJsonObject(bytes: Buffer, file: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (cause) {
    throw new LayoutError(file, `not valid JSON (${(cause as Error).message})`, { cause })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LayoutError(file, 'is not a JSON object')
  }
  return value as Record<string, unknown>
}

/** Reads and validates oci-layout and index.json; blobs are checked later, by verifyLayout. */
export async function readLayout(dir: string): Promise<Layout> {
  await readLayoutMarker(dir)
  const file = path.join(dir, 'index.json')
  return { dir, index: parseIndex(await readSmallFile(file, MAX_INDEX_BYTES), file) }
}
